"""Typed, self-describing option dataclasses.

Every technique, model source and runtime setting is a frozen dataclass whose fields are made with
`option(...)`: the help text, allowed choices and bounds live next to the default, so the CLI, the
`--json` listings and the UI forms are all generated from one place.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import re
import types
import typing
from collections.abc import Collection, Mapping
from typing import Any

from core.errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(default: Any, help: str, *, choices: tuple | None = None,
           minimum: float | None = None, maximum: float | None = None, label: str | None = None,
           none_label: str | None = None, requires: str | None = None) -> Any:
    """A dataclass field with help text, optional choices/bounds, the label a form shows (default: the
    name in words), for an optional choice what leaving it unset means (default: "default"), and the
    field it only matters with (`requires`: a form shows it once that field is set)."""
    meta = {"help": help, "choices": choices, "minimum": minimum, "maximum": maximum, "label": label,
            "none_label": none_label, "requires": requires}
    return dataclasses.field(default=default, metadata=meta)


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _base_type(kind: Any) -> Any:
    """`int | None` -> int; other annotations unchanged."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(kind) if a is not type(None))
    return kind


def _coerce(name: str, kind: Any, raw: Any) -> Any:
    base = typing.get_origin(kind)
    args = typing.get_args(kind)
    if base is typing.Union or base is types.UnionType:
        non_none = [a for a in args if a is not type(None)]
        if raw is None or (isinstance(raw, str) and raw.lower() in {"none", "auto", ""}):
            return None
        return _coerce(name, non_none[0], raw)
    if kind is bool:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ConfigError(f"{name} takes true or false, not {raw!r}")
    if kind in (int, float):
        if isinstance(raw, bool):
            raise ConfigError(f"{name} takes a number, not {raw!r}")
        word = "a whole number" if kind is int else "a finite number"
        try:
            value = kind(raw)
        except (TypeError, ValueError, OverflowError):  # int(float("inf")) overflows
            raise ConfigError(f"{name} takes {word}, not {raw!r}") from None
        if not math.isfinite(value):  # NaN passes every bound check, and infinity is no setting
            raise ConfigError(f"{name} takes {word}, not {raw!r}")
        if kind is int and isinstance(raw, float) and raw != value:
            raise ConfigError(f"{name} takes a whole number, not {raw!r}")
        return value
    if kind is str:
        return str(raw)
    if base in (tuple, list):
        items = raw if isinstance(raw, (list, tuple)) else [p for p in str(raw).split("/") if p]
        return tuple(_coerce(name, args[0], item) for item in items)
    return raw


def parse_options(cls: type, values: Mapping[str, Any] | None, *, what: str) -> Any:
    """Build `cls` from user-given values, checking names, types, choices and bounds.

    `what` names the owner in messages (e.g. "technique ort_static_int8").
    """
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        valid = ", ".join(fields) or "(none)"
        raise ConfigError(f"{what} has no option {', '.join(map(repr, unknown))}; valid options: {valid}")
    types = _field_types(cls)
    kwargs = {}
    for key, raw in values.items():
        field = fields[key]
        name = subject(what, field)
        value = _coerce(name, types[key], raw)
        _check_bounds(name, field, value)
        kwargs[key] = value
    return cls(**kwargs)


def subject(what: str, field: dataclasses.Field) -> str:
    """How a message names an option, in the form's words: "Threads" for a setting (`what` is one word, e.g.
    "runtime"), "ort_static_int8 calibration size" for an option of a named owner ("technique ort_static_int8")."""
    label = field.metadata.get("label") or field.name.replace("_", " ")
    owner = what.partition(" ")[2]
    return f"{owner} {label}" if owner else capitalized(label)


def capitalized(label: str) -> str:
    """A label as the start of a sentence or a form field: "threads" -> "Threads"; a name such as "p99
    bound (ms)" keeps its case."""
    return label if re.match(r"[a-z]\d", label) else label[:1].upper() + label[1:]


def bound_problem(minimum: float | None, maximum: float | None, value: float) -> str | None:
    """Why `value` is outside [minimum, maximum], in the words every form and flag uses (None: inside)."""
    if minimum is not None and value < minimum:
        return f"must be at least {minimum:g}"
    if maximum is not None and value > maximum:
        return f"must be at most {maximum:g}"
    return None


def _check_bounds(name: str, field: dataclasses.Field, value: Any) -> None:
    meta = field.metadata
    if value is None:
        return
    choices = meta.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}; got {value!r}")
    problem = bound_problem(meta.get("minimum"), meta.get("maximum"), value)
    if problem:
        raise ConfigError(f"{name} {problem}; got {value}")


def parse_key_values(text: str, *, what: str) -> dict[str, str]:
    """Parse "k=v,k2=v2" (the CLI's NAME:k=v,... suffix) into a dict of strings."""
    out: dict[str, str] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what}: expected key=value, got {part!r}")
        out[key.strip()] = value.strip()
    return out


def format_spec(name: str, options: dict[str, Any]) -> str:
    """"name:k=v,..." from options, leaving out unset ones (None or ""): the inverse of split_spec."""
    given = {k: v for k, v in options.items() if v is not None and v != ""}
    return name + ":" + ",".join(f"{k}={v}" for k, v in given.items()) if given else name


def split_spec(spec: str) -> tuple[str, str]:
    """Split "NAME:rest" into ("NAME", "rest"); rest is "" when absent."""
    name, _, rest = spec.partition(":")
    return name.strip(), rest


def describe(cls: type) -> list[dict[str, Any]]:
    """Field descriptions for listings and forms: name, type (as written), kind (int, float, str, bool,
    ...; `optional` when None is allowed), default, help, choices and bounds."""
    types = _field_types(cls)
    out = []
    for f in dataclasses.fields(cls):
        kind = types[f.name]
        type_name = getattr(kind, "__name__", None) or str(kind).replace("typing.", "")
        base = _base_type(kind)
        out.append({
            "name": f.name, "type": type_name, "default": f.default,
            "kind": getattr(base, "__name__", type_name), "optional": base is not kind,
            "help": f.metadata.get("help", ""), "label": f.metadata.get("label") or f.name.replace("_", " "),
            "none_label": f.metadata.get("none_label") or "default",
            "choices": list(f.metadata["choices"]) if f.metadata.get("choices") else None,
            "minimum": f.metadata.get("minimum"), "maximum": f.metadata.get("maximum"),
            "requires": f.metadata.get("requires"),
        })
    return out


def to_dict(config: Any) -> dict[str, Any]:
    """A JSON-friendly dict of a config dataclass."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(config).items()}


def finite_float(text: str) -> float:
    """argparse type for every number flag: NaN passes every bound check and infinity is no setting."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes a number, not {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"takes a finite number, not {text!r}")
    return value


def flag_name(name: str) -> str:
    """The command-line flag of an option: `min_seconds` -> `--min-seconds`."""
    return "--" + name.replace("_", "-")


def add_arguments(parser: Any, cls: type, *, only: Collection[str] | None = None, skip: Collection[str] = (),
                  aliases: Mapping[str, str] | None = None) -> None:
    """One flag per field of `cls`, typed, with its help, choices and default from `option()`.

    Every flag defaults to None, so a flag left out keeps the config's own default (`given` drops
    it). `parser` may be an argparse parser or group; `aliases` adds a second flag for a field.
    """
    types_ = _field_types(cls)
    for f in dataclasses.fields(cls):
        if (only is not None and f.name not in only) or f.name in skip:
            continue
        kind = _base_type(types_[f.name])
        meta = f.metadata
        default = "" if f.default is None else f" (default {f.default})"
        flags = [flag_name(f.name), *([aliases[f.name]] if aliases and f.name in aliases else [])]
        help_text = (meta.get("help", "") + default).replace("%", "%%")
        if kind is bool:
            parser.add_argument(*flags, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                                help=help_text)
            continue
        parser.add_argument(*flags, dest=f.name, default=None, help=help_text,
                            type={int: int, float: finite_float}.get(kind, str),
                            choices=list(meta["choices"]) if meta.get("choices") else None)


def given(args: argparse.Namespace, cls: type) -> dict[str, Any]:
    """The fields of `cls` set on the command line (flags made by `add_arguments`)."""
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name, None) is not None}
