"""The dashboard's pages, listed once: app.py routes with them, and a page opened before app.py ever
ran uses them to put the server on `st.navigation` routing.

Why: a folder named `pages/` beside app.py starts a fresh Streamlit server in its legacy multipage
mode, in which a first visit to a deep link (/results) runs that page alone — no app.py, every file
in pages/ listed as a page. Calling `st.navigation` is Streamlit's documented way to leave that mode
for good, so such a page calls it and reruns; app.py then routes the same URL to the same page.
"""
from __future__ import annotations

import streamlit as st

ROUTED = "_routed_by_app"  # session key app.py sets on every run, before the page runs


def navigation():
    """The app's navigation (`st.navigation`), marking this run as routed by app.py."""
    st.session_state[ROUTED] = True
    return st.navigation([
        st.Page("pages/run.py", title="Run", icon=":material/play_arrow:", default=True),
        st.Page("pages/explore.py", title="Explore", icon=":material/travel_explore:"),
        st.Page("pages/results.py", title="Results", icon=":material/scatter_plot:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
        st.Page("pages/diagnose.py", title="Diagnose", icon=":material/troubleshoot:"),
        st.Page("pages/export.py", title="Export", icon=":material/download:"),
    ])


def ensure_routed() -> None:
    """Every page calls this first: outside app.py's routing, switch the server to it and run again."""
    if not st.session_state.get(ROUTED):
        navigation()
        st.rerun()
