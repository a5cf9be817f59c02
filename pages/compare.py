"""Compare: runs side by side — metric deltas, settings diff, latency distributions."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import views
from pages.common import get_api

st.title("Compare")
api = get_api()
done = [r for r in api.runs() if r.status == "done"]
if len(done) < 2:
    st.info("Compare needs at least two finished runs.")
    st.stop()

by_id = {r.id: r for r in done}
wanted = [i for i in st.session_state.get("selected_runs", []) if i in by_id] or [r.id for r in done[-2:]]
label = lambda i: f"{i}: {by_id[i].model} · {by_id[i].recipe_summary} · batch {by_id[i].runtime.get('batch')}"  # noqa: E731
chosen = st.multiselect("Runs", list(by_id), default=wanted, format_func=label, key="compare_runs")
if len(chosen) < 2:
    st.warning("Pick at least two runs.")
    st.stop()
runs = [by_id[i] for i in chosen]
reference = by_id[st.selectbox("Reference run", chosen, format_func=label, key="reference")]

st.subheader("Metrics")
st.caption(f"Δ = value − run {reference.id}; × = value / run {reference.id}.")
metrics = pd.DataFrame(views.metric_deltas(runs, reference)).set_index("metric")
st.dataframe(metrics.style.format(precision=4, na_rep="–"), width="stretch", key="metrics_table")

st.subheader("Settings and environment")
only_diff = st.checkbox("Only fields that differ", value=True, key="only_diff")
diff = pd.DataFrame(views.settings_diff(runs))
if only_diff:
    diff = diff[diff["differs"]]
styled = diff.drop(columns="differs").set_index("field").style.apply(
    lambda row: ["background-color: #fef3c7" if diff.loc[diff["field"] == row.name, "differs"].any() else ""
                 for _ in row], axis=1)
st.dataframe(styled, width="stretch", key="diff_table")

st.subheader("Latency distribution")
kind = st.segmented_control("Plot", ["ECDF", "Histogram"], default="ECDF", key="dist_kind")
figure = go.Figure()
for run in runs:
    samples = api.samples(run.id)
    name = f"run {run.id} · {run.recipe_summary}"
    if kind == "Histogram":
        figure.add_trace(go.Histogram(x=samples, name=name, opacity=0.55, nbinsx=60))
    else:
        xs, ys = views.ecdf(samples)
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(shape="hv")))
figure.update_layout(barmode="overlay", xaxis_title="latency per call (ms)",
                     yaxis_title="share of calls" if kind != "Histogram" else "calls", height=420, margin=dict(t=30))
st.plotly_chart(figure, key="distribution_chart")
