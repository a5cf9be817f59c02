"""Widgets generated from a config dataclass's field descriptions: no hand-written form per technique.

`option_values` lets every field take several values (the grid): choices and booleans become
multiselects, numbers and text become comma-separated inputs. `setting_inputs` takes one value per
field (timing, exploration and curve settings), with the config's own default and bounds.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import InferScopeError
from core.options import bound_problem, capitalized


class FormValues(dict):
    """A form's values, {field: value}, and what is wrong with them (`problems`, each naming its field): an action
    that reads a form with problems stays disabled, so an invalid value is never replaced by the last valid one."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.problems: list[str] = []

    def __ior__(self, other: Any) -> FormValues:
        self.update(other)
        self.problems += getattr(other, "problems", [])
        return self


def split_values(text: str) -> tuple[str, ...]:
    """"a, b" -> ("a", "b"); one value (possibly empty, meaning "default") without a comma."""
    return tuple(p.strip() for p in text.split(",")) if "," in text else (text.strip(),)


def whole_numbers(text: str, label: str, *, all_word: str | None = None) -> tuple[int | None, ...]:
    """Comma-separated whole numbers; empty means (None,), i.e. the default, and so does `all_word` (Explore's
    threads say "all"). Bounds are the planner's, in the same words as every other form."""
    parts = [p for p in split_values(text) if p]
    try:
        return tuple(None if all_word and p.lower() == all_word else int(p) for p in parts) or (None,)
    except ValueError:
        words = f", or {all_word}" if all_word else ""
        raise InferScopeError(f"{label} takes whole numbers separated by commas{words}; not {text!r}") from None


def single_choice(label: str, options: list[Any], default: Any, key: str, **kwargs: Any) -> Any:
    """A segmented control that always holds one option: clicking the chosen one again would deselect it in
    Streamlit (and empty what depends on it, "No options to select"), so the previous choice is put back."""
    last = f"{key}__last"

    def keep() -> None:
        if st.session_state.get(key) is None:
            st.session_state[key] = st.session_state.get(last, default)

    value = st.segmented_control(label, options, default=default, key=key, on_change=keep, **kwargs)
    value = value if value is not None else st.session_state.get(last, default)
    st.session_state[last] = value
    return value


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def _help(field: dict[str, Any]) -> str:
    bounds = [f"min {field['minimum']:g}" if field["minimum"] is not None else "",
              f"max {field['maximum']:g}" if field["maximum"] is not None else ""]
    return field["help"] + (f" ({', '.join(b for b in bounds if b)})" if any(bounds) else "")


def _number(kind: str, value: Any) -> Any:
    return None if value is None else (int(value) if kind == "int" else float(value))


def _number_input(slot: Any, field: dict[str, Any], label: str, help_text: str, start: Any, key: str,
                  problems: list[str]) -> Any:
    """A number field without bounds in the widget (a widget's bound silently keeps the last valid value); a value
    outside them, or a required field left empty, is said in words under the field and added to `problems`."""
    kind = field["kind"]
    value = slot.number_input(label, value=_number(kind, start), key=key, step=1 if kind == "int" else None,
                              help=help_text + (". Leave empty for none." if field["optional"] else ""),
                              placeholder="none" if field["optional"] else None)
    problem = ("needs a value" if not field["optional"] else None) if value is None \
        else bound_problem(field["minimum"], field["maximum"], value)
    if problem:
        slot.error(f"{problem}" + ("" if value is None else f"; got {value:g}"), icon=":material/error:")
        problems.append(f"{label} {problem}" + ("" if value is None else f" (got {value:g})"))
    return value


def setting_inputs(owner: str, fields: list[dict[str, Any]], *, only: tuple[str, ...] | None = None,
                   defaults: dict[str, Any] | None = None, columns: int = 3) -> FormValues:
    """One widget per field (in `only`'s order when given), laid out in `columns`; returns {field: value} with the
    problems of the values typed (`FormValues.problems`).

    The widget starts at `defaults[field]` when given (e.g. the last value used), else at the config's
    own default. An optional field whose default is None may be left empty (e.g. no constraint).
    """
    by_name = {f["name"]: f for f in fields}
    chosen = [by_name[name] for name in only] if only is not None else fields
    slots = st.columns(columns)
    values = FormValues()
    for i, field in enumerate(chosen):
        slot, key = slots[i % columns], f"{owner}.{field['name']}"
        start = (defaults or {}).get(field["name"], field["default"])
        label, help_text = capitalized(field["label"]), _help(field)
        if field["choices"]:
            options = ([None] if field["optional"] else []) + list(field["choices"])
            unset = field["none_label"]
            values[field["name"]] = slot.selectbox(label, options, index=options.index(start), key=key, help=help_text,
                                                   format_func=lambda v, unset=unset: unset if v is None else v)
        elif field["kind"] == "bool":
            values[field["name"]] = slot.checkbox(label, value=bool(start), key=key, help=help_text)
        elif field["kind"] in ("int", "float"):
            values[field["name"]] = _number_input(slot, field, label, help_text, start, key, values.problems)
        else:
            values[field["name"]] = slot.text_input(label, value="" if start is None else str(start), key=key,
                                                    help=help_text) or None
    return values


def option_values(owner: str, fields: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Render one input per field; returns {field: (raw values...)} for the grid.

    A field that only matters with another (`requires`, e.g. distillation's temperature with a teacher,
    recovery epochs with a recovery) is shown once that one is set to something other than none. A field left
    at its default gives no value, so the run stores only what the user chose (a label then reads "resnet8",
    not "resnet8:seed=0,temperature=4.0").
    """
    values: dict[str, tuple[Any, ...]] = {}
    defaults = {f["name"]: f["default"] for f in fields}
    for field in fields:
        needed = field.get("requires")
        # the field it needs, as picked (a field left at its default gives no value: then its default)
        current = (values.get(needed) or (defaults.get(needed),)) if needed else ()
        if needed and not any(v not in (None, "", "none") for v in current):
            continue
        key = f"{owner}.{field['name']}"
        label, help_text = field["label"], _help(field)
        if field["choices"] or field["type"] == "bool":
            # An optional choice (e.g. OpenVINO's CPU pinning) may stay unset: None is one of its values.
            options = ([None] if field["optional"] else []) + list(field["choices"] or [True, False])
            unset = field["none_label"]
            picked = tuple(st.multiselect(label, options, default=[field["default"]], key=key, help=help_text,
                                          format_func=lambda v, unset=unset: unset if v is None else str(v)))
        else:
            text = st.text_input(label, value=_show(field["default"]), key=key,
                                 help=help_text + ". Several values: separate with commas.",
                                 placeholder="empty = default")
            picked = split_values(text)
        values[field["name"]] = () if picked == (field["default"],) or picked == (_show(field["default"]),) else picked
    return values
