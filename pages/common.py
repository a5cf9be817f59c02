"""What every page shares: one api object per data location (never a DB session here)."""
from __future__ import annotations

import os
from collections.abc import Callable, Hashable
from dataclasses import replace
from datetime import datetime

import streamlit as st

from core.api import InferScope
from core.errors import InferScopeError
from core.settings import load_settings
from core.store import ACTIVE_STATUSES, JobRecord
from pages.navigation import ensure_routed

# A list of jobs polls its store this often while one of them is active, and this often otherwise (a job queued
# from the CLI or another page shows up); reads only, and cheap ones: the dashboard must not compete with a timing.
LIVE_ACTIVE_S, LIVE_IDLE_S = 2.0, 10.0

# A page waits this long at most for a store that stopped answering, then says so; the worker waits far longer
# (INFERSCOPE_STORE_RETRY_S), since what it holds is a measurement.
PAGE_STORE_WAIT_S = 5.0


@st.cache_resource(show_spinner=False)
def _api(home: str | None, db: str | None) -> InferScope:
    settings = load_settings()
    return InferScope(replace(settings, store_retry_s=min(settings.store_retry_s, PAGE_STORE_WAIT_S)))


def get_api() -> InferScope:
    """The api for the current settings; stops the page with the reason when the store cannot open.

    Once per browser session it also restarts the worker for jobs that waited through an app restart.
    """
    ensure_routed()
    try:
        api = _api(os.environ.get("INFERSCOPE_HOME"), os.environ.get("INFERSCOPE_DB"))
    except InferScopeError as exc:
        st.error(str(exc))
        st.stop()
        raise
    if not st.session_state.get("queue_resumed"):
        api.resume_queue()
        st.session_state["queue_resumed"] = True
    return api


def upload_time(iso: str) -> str:
    """An upload's ISO timestamp as the server's local time, to the second."""
    return datetime.fromisoformat(iso).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def job_state(api: InferScope, kind: str, latest: JobRecord | None, key: str) -> bool:
    """Where the latest job of `kind` (a run, a curve, a comparison, a diagnosis, an exploration) is, the same way
    on every page: its progress and a Cancel button while it waits or runs, its error and a "Queue again" button
    once it stopped. True when it is done."""
    if latest is None or latest.status == "done":
        return latest is not None
    words, action = st.columns([5, 1])
    if latest.status in ACTIVE_STATUSES:
        words.progress(min(1.0, latest.progress), text=f"{kind} {latest.id}: {latest.status}"
                       + (f" · {latest.stage}" if latest.stage else ""))
        if action.button("Cancel", key=f"{key}_cancel_{latest.id}"):
            api.cancel(latest.id, kind)
            st.rerun()
        return False
    words.error(f"{kind.capitalize()} {latest.id} {latest.status}: {latest.error}")
    if action.button("Queue again", key=f"{key}_requeue_{latest.id}",
                     help="an exploration continues where it stopped; any other job starts over"):
        api.requeue(latest.id, kind)
        st.rerun()
    return False


def refresh_on_change(key: str, state: Callable[[], Hashable], active: bool) -> None:
    """Keep a list of jobs live: poll `state` (what the list shows: ids, statuses, progress) every LIVE_ACTIVE_S
    while one of them is `active`, else every LIVE_IDLE_S, and run the page again when it changes — so a list never
    shows a job as queued after it finished."""
    st.session_state[key] = state()

    def watch() -> None:
        if state() != st.session_state.get(key):
            st.rerun()

    st.fragment(watch, run_every=LIVE_ACTIVE_S if active else LIVE_IDLE_S)()


def jobs_state(records: list[JobRecord]) -> tuple:
    """What a list of jobs shows, for `refresh_on_change`: each job's id, status, stage and progress (by percent)."""
    return tuple((r.id, r.status, getattr(r, "stage", None), round(100 * (r.progress or 0.0))) for r in records)
