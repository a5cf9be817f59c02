"""The Results page's exploration panel: progress, recommendations with reasons, hypervolume over time."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.api import InferScope
from core.explore.report import ExplorationReport
from core.metrics import OBJECTIVES
from core.store import ACTIVE_STATUSES
from core.wording import accuracy_words, drop_limit

LIVE_SECONDS = 3


def show_exploration(api: InferScope, exploration_id: int) -> None:
    """Render one exploration's state; while it runs, the page refreshes as trials finish."""
    result = api.exploration_report(exploration_id)
    record = result.record
    st.subheader(f"Exploration {record.id}")
    reused = ", ".join(map(str, record.reused_run_ids))
    st.caption(f"{record.config.get('model')} on {record.config.get('dataset')} · {record.status} · "
               f"{record.trials} trial(s) in {record.spent_s / 60:.1f} min · strategy "
               f"{record.strategy or 'not chosen yet'}"
               + (f" · baseline run(s) {reused} reused from the store (no budget spent)" if reused else "")
               + (f" · {record.error}" if record.error else "") + "".join(f" · {n}" for n in record.notes[-1:]))
    if record.status in ACTIVE_STATUSES:
        st.progress(min(1.0, record.progress), text=f"budget used: {record.progress:.0%}")
        _watch(api, record.id, record.trials, record.status)
    _recommendations(result)
    _hypervolume(result)


@st.fragment(run_every=LIVE_SECONDS)
def _watch(api: InferScope, exploration_id: int, trials: int, status: str) -> None:
    """Rerun the page when a trial finishes or the exploration ends (the front grows live)."""
    now = api.exploration(exploration_id)
    if now.trials != trials or now.status != status:
        st.rerun()


def _recommendations(result: ExplorationReport) -> None:
    c = result.constraints
    limits = [drop_limit(c.max_drop, c.accuracy) if c.max_drop is not None else "",
              f"{c.latency} ≤ {c.max_latency_ms:g} ms" if c.max_latency_ms is not None else "",
              f"size ≤ {c.max_size_mb:g} MB" if c.max_size_mb is not None else ""]
    st.caption("Constraints: " + (", ".join(x for x in limits if x) or "none"))
    left, right = st.columns(2)
    for column, title, pick, empty in (
            (left, "Fastest within the constraints", result.picks.fastest, "No finished run meets the constraints yet."),
            (right, "Knee of the front", result.picks.knee, "The front needs three points for a knee.")):
        with column.container(border=True):
            st.markdown(f"**{title}**")
            if pick is None:
                st.caption(empty)
                continue
            st.markdown(f"Run {pick.run.id}: `{pick.run.recipe_summary}` · {accuracy_words(c.latency)} "
                        f"{pick.run.metrics[c.latency]:.3f} {OBJECTIVES[c.latency].unit} · "
                        f"{accuracy_words(c.accuracy)} {pick.run.metrics[c.accuracy]:.2f}"
                        f"{'%' if OBJECTIVES[c.accuracy].unit == '%' else ''}")
            st.caption(pick.reason)
            if st.button(f"Export run {pick.run.id}", key=f"x_export_{title}_{pick.run.id}"):
                st.session_state["export_run"] = pick.run.id
                st.switch_page("pages/export.py")


def _hypervolume(result: ExplorationReport) -> None:
    if not result.history:
        return
    figure = go.Figure(go.Scatter(x=[p.seconds / 60 for p in result.history], y=[p.share for p in result.history],
                                  mode="lines+markers", line=dict(shape="hv", color="#2563eb"),
                                  customdata=[p.trials for p in result.history],
                                  hovertemplate="%{x:.1f} min · trial %{customdata} · %{y:.3f}<extra></extra>"))
    figure.update_layout(height=260, margin=dict(t=10, b=10), xaxis_title="minutes since the first trial",
                         yaxis_title="hypervolume", yaxis_range=[0, 1.05])
    st.plotly_chart(figure, key="hypervolume_chart")
    st.caption("Hypervolume: the share of the box (best to 1.1× worst feasible latency, worst to best feasible "
               f"{accuracy_words(result.constraints.accuracy)}) that the feasible front dominates. A flat curve means "
               "new trials stopped improving the front.")
