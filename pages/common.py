"""What every page shares: one api object per data location (never a DB session here)."""
from __future__ import annotations

import os

import streamlit as st

from core.api import InferScope
from core.errors import InferScopeError


@st.cache_resource(show_spinner=False)
def _api(home: str | None, db: str | None) -> InferScope:
    return InferScope()


def get_api() -> InferScope:
    """The api for the current settings; stops the page with the reason when the store cannot open."""
    try:
        return _api(os.environ.get("INFERSCOPE_HOME"), os.environ.get("INFERSCOPE_DB"))
    except InferScopeError as exc:
        st.error(str(exc))
        st.stop()
        raise
