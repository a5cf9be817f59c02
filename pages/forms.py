"""Widgets generated from a config dataclass's field descriptions: no hand-written form per technique.

Every field may take several values (the grid): choices and booleans become multiselects, numbers
and text become comma-separated inputs.
"""
from __future__ import annotations

from typing import Any

import streamlit as st


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
            parts = [p.strip() for p in text.split(",")] if "," in text else [text.strip()]
            values[field["name"]] = tuple(parts)
    return values
