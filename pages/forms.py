"""Widgets generated from a config dataclass's field descriptions: no hand-written form per technique.

Every field may take several values (the grid): choices and booleans become multiselects, numbers
and text become comma-separated inputs.
"""
from __future__ import annotations

from typing import Any

import streamlit as st

from core.errors import InferScopeError


def split_values(text: str) -> tuple[str, ...]:
    """"a, b" -> ("a", "b"); one value (possibly empty, meaning "default") without a comma."""
    return tuple(p.strip() for p in text.split(",")) if "," in text else (text.strip(),)


def whole_numbers(text: str, label: str) -> tuple[int | None, ...]:
    """Comma-separated whole numbers; empty means (None,), i.e. the default."""
    parts = [p for p in split_values(text) if p]
    try:
        return tuple(int(p) for p in parts) or (None,)
    except ValueError:
        raise InferScopeError(f"{label} takes whole numbers separated by commas, not {text!r}") from None


def _show(value: Any) -> str:
    return "" if value is None else str(value)


def option_values(owner: str, fields: list[dict[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """Render one input per field; returns {field: (raw values...)} for the grid."""
    values: dict[str, tuple[Any, ...]] = {}
    for field in fields:
        key = f"{owner}.{field['name']}"
        label = field["name"].replace("_", " ")
        bounds = [f"min {field['minimum']:g}" if field["minimum"] is not None else "",
                  f"max {field['maximum']:g}" if field["maximum"] is not None else ""]
        help_text = field["help"] + (f" ({', '.join(b for b in bounds if b)})" if any(bounds) else "")
        if field["choices"] or field["type"] == "bool":
            options = field["choices"] or [True, False]
            picked = st.multiselect(label, options, default=[field["default"]], key=key, help=help_text)
            values[field["name"]] = tuple(picked)
        else:
            text = st.text_input(label, value=_show(field["default"]), key=key,
                                 help=help_text + ". Several values: separate with commas.",
                                 placeholder="empty = default")
            values[field["name"]] = split_values(text)
    return values
