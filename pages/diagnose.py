"""Diagnose: where an INT8 run's accuracy went, node by node, with one click to the next run; and where any
run's time goes, operator by operator."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import views, wording
from core.doctor import profile_advice
from core.errors import InferScopeError
from core.store import ACTIVE_STATUSES
from pages.common import (
    LIVE_ACTIVE_S,
    get_api,
    job_state,
    jobs_state,
    refresh_on_change,
)
from pages.forms import setting_inputs

PRECISION_COLOURS = {"int8": "#16a34a", "weight-only": "#7c3aed", "float": "#2563eb", "conversion": "#dc2626",
                     "layout": "#9ca3af"}
# What a profile's times are compared with, measured without the profiler: a classifier's call, a generation's token.
UNPROFILED = {"call": ("latency_p50_ms", "p50"), "token": ("itl_p50_ms", "inter-token p50")}

st.title("Diagnose")
api = get_api()
done = api.runs("done")
if not done:
    st.info("Diagnose reads done runs: queue some on the **Run** page.")
    st.page_link("pages/run.py", label="Go to Run", icon=":material/play_arrow:")
    st.stop()


def pick_run(runs, key: str, label: str, kind: str):
    """A run picker, newest first, each run labelled by what tells it apart; it starts at the newest run
    already diagnosed this way (its findings show at once), else the newest run."""
    labels, by_id = views.run_labels(runs), {r.id: r for r in runs}
    ids = list(reversed(by_id))
    diagnosed = [d.run_id for d in api.diagnoses(kind=kind) if d.status == "done" and d.run_id in by_id]
    wanted = st.session_state.get("diagnose_run") or max(diagnosed, default=None)
    return by_id[st.selectbox(label, ids, index=ids.index(wanted) if wanted in ids else 0, key=key,
                              format_func=lambda i: f"{i}: {labels[i]} · {views.quality_words(by_id[i])}")]


def latest_done(run_id: int, kind: str, values: dict, button: str, key: str):
    """The button that queues a diagnosis of `kind` and the latest one's state; the latest if done, else None."""
    records = api.diagnoses(run_id, kind)
    latest = records[-1] if records else None
    busy = latest is not None and latest.status in ACTIVE_STATUSES
    why_not = "one is under way" if busy else "; ".join(values.problems) or None
    if st.button(button, type="primary", disabled=why_not is not None, key=key, help=why_not):
        try:
            api.request_diagnosis(run_id, values, kind)
        except InferScopeError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if latest is None:
        st.caption(f"Run {run_id} has not been diagnosed this way yet.")
        return None
    return latest if job_state(api, "diagnosis", latest, key) else None


# -- where the accuracy went ---------------------------------------------------------------------------------
def sensitivity_panel(run, values: dict) -> None:
    diagnosis = latest_done(run.id, "sensitivity", values, "Diagnose", "diagnose")
    if diagnosis is not None:
        show_sensitivity(diagnosis, run)


def noise_points(run) -> float | None:
    """Half the width of the run's top-1 95% interval, in points: a recovery smaller than this is within noise."""
    low, high = run.metrics.get("top1_ci_low"), run.metrics.get("top1_ci_high")
    return (high - low) / 2 if low is not None and high is not None else None


def show_sensitivity(diagnosis, run) -> None:
    summary, nodes = diagnosis.summary, diagnosis.nodes
    words = "top-1" if summary["metric"] == "top1" else "agreement with FP32"
    task = views.run_task(run)
    st.success(f"Diagnosis {diagnosis.id}: {words} {summary['int8']:.2f}% in INT8 against {summary['float']:.2f}% in "
               f"FP32; {summary['quantized_nodes']} quantized nodes compared on "
               f"{task.items(summary['images_compared'])} from the calibration split.")
    tried = [n for n in nodes if n["recovered"] is not None]
    noise = noise_points(run) if summary["metric"] == "top1" else None
    if tried:
        real = lambda n: n["recovered"] > 0 and (noise is None or n["recovered"] > noise)  # noqa: E731
        figure = go.Figure(go.Bar(x=[n["recovered"] for n in tried], y=[n["node"] for n in tried], orientation="h",
                                  marker_color=["#16a34a" if real(n) else "#9ca3af" for n in tried],
                                  customdata=[[n["op_type"], n["noise_added_pct"],
                                               "" if real(n) or n["recovered"] <= 0 else " (within noise)"]
                                              for n in tried],
                                  hovertemplate="%{y} (%{customdata[0]})<br>recovers %{x:+.2f} points"
                                                "%{customdata[2]}<br>adds %{customdata[1]:.3g}% noise<extra></extra>"))
        figure.update_layout(xaxis_title=f"{words} recovered with this node alone in float (points)",
                             height=120 + 28 * len(tried), yaxis=dict(autorange="reversed", title=None),
                             margin=dict(t=20))
        if noise is not None:
            figure.add_vrect(x0=-noise, x1=noise, fillcolor="#9ca3af", opacity=0.15, line_width=0)
        st.plotly_chart(figure, key="recovered_chart")
        if noise is not None:
            one = 100 / run.subset_size if run.subset_size else None
            st.caption(f"The shaded band is ±{noise:.1f} points, half the run's 95% interval of top-1"
                       + (f" (one {task.item} of {run.subset_size:,} is {one:.2f} points)" if one else "")
                       + ": a recovery inside it (grey) may be chance, not the node.")
    recovered = f"{words} recovered in float (points)"
    table = pd.DataFrame([{"node": n["node"], "op": n["op_type"], "SQNR (dB)": n["sqnr_db"],
                           "noise added (% of signal)": n["noise_added_pct"], recovered: n["recovered"]}
                          for n in nodes])
    st.dataframe(table, hide_index=True, width="stretch", key="nodes_table", placeholder="not tried",
                 column_config={"SQNR (dB)": st.column_config.NumberColumn(format="%.1f"),
                                "noise added (% of signal)": st.column_config.NumberColumn(format="%.3g"),
                                recovered: st.column_config.NumberColumn(format="%+.2f")})
    helpful = diagnosis.most_sensitive(len(nodes))
    if not helpful:
        st.info("No node recovers accuracy on its own in float: the loss is spread over the model (try "
                "calibration_method=Percentile or Entropy, per_channel, or accuracy-aware max_drop) rather than in "
                "one layer.")
        return
    left, right = st.columns([1, 3])
    count = left.number_input("Nodes to keep in float", min_value=1, max_value=len(helpful),
                              value=min(3, len(helpful)), key="keep_count")
    right.caption(f"Keeps {', '.join(helpful[:int(count)])} in float: the same configuration otherwise, linked to "
                  f"run {diagnosis.run_id} on the Results chart.")
    if right.button(f"Queue with the {int(count)} most sensitive in float", key="keep_float"):
        try:
            new_id = api.queue_keep_float(diagnosis.id, int(count))
        except InferScopeError as exc:
            st.error(str(exc))
        else:
            st.success(f"Queued run #{new_id} (from run {diagnosis.run_id}).")


# -- where the time went -------------------------------------------------------------------------------------
def profile_panel(run, values: dict) -> None:
    diagnosis = latest_done(run.id, "profile", values, "Profile", "profile")
    if diagnosis is not None:
        show_profile(diagnosis, run)


def show_profile(diagnosis, run) -> None:
    s = diagnosis.summary
    st.success(f"Profile {diagnosis.id}: {wording.profile_words(s)}.")
    call = s.get("call", "call")
    metric, words = UNPROFILED[call]
    p50 = run.metrics.get(metric)
    st.caption("A profiler records every operator, which costs time of its own: compare these times with each other, "
               "not with the run's latency" + (f" ({words} {p50:.3f} ms, measured without the profiler)" if p50 else "")
               + ".")
    for finding in profile_advice(s):
        st.warning(f"{finding.figure}: {finding.advice}.")
    types = s["op_types"][:20]
    figure = go.Figure(go.Bar(x=[t["ms_per_call"] for t in types], y=[t["op_type"] for t in types], orientation="h",
                              marker_color=[PRECISION_COLOURS.get(t["precision"], "#6b7280") for t in types],
                              customdata=[[t["precision"], t["share_pct"]] for t in types],
                              hovertemplate=f"%{{y}}: %{{x:.4f}} ms per {call} (%{{customdata[1]:.1f}}%), "
                                            "%{customdata[0]}<extra></extra>"))
    figure.update_layout(xaxis_title=f"time per {call} (ms), by operator type", height=120 + 26 * len(types),
                         yaxis=dict(autorange="reversed", title=None), margin=dict(t=20))
    st.plotly_chart(figure, key="profile_chart")
    st.caption("Colour: green runs in INT8, purple multiplies by weights stored in fewer bits (weight-only: "
               "MatMulNBits, FullyConnectedCompressed), blue in float, red converts (QuantizeLinear/DequantizeLinear/"
               "Cast, or OpenVINO's FakeQuantize/Convert), grey moves data (layout changes).")
    st.dataframe(pd.DataFrame(diagnosis.nodes), hide_index=True, width="stretch", key="profile_nodes",
                 column_config={"ms_per_call": st.column_config.NumberColumn(f"ms per {call}", format="%.4f"),
                                "share_pct": st.column_config.NumberColumn("share %", format="%.1f")})


# a diagnosis queued from the CLI, or one that ended, shows without a reload
refresh_on_change("diagnose_state", lambda: jobs_state(api.diagnoses()),
                  any(d.status in ACTIVE_STATUSES for d in api.diagnoses()))
accuracy_tab, time_tab = st.tabs(["Where the accuracy went", "Where the time went"])
with accuracy_tab:
    int8 = [r for r in done if api.diagnosable(r, "sensitivity")]
    if not int8:
        st.info("This reads a done ONNX Runtime static INT8 run (e.g. onnx_export → ort_static_int8): queue one "
                "on the **Run** page.")
    else:
        run = pick_run(int8, "diagnose_choice", "INT8 run", "sensitivity")
        run_item = views.run_task(run).item
        st.caption(f"Each quantized node's output is compared with the FP32 model's on calibration {run_item}s "
                   "(onnxruntime's qdq_loss_debug): its SQNR and the quantization noise it adds. The nodes adding "
                   "the most are then requantized one at a time with that node kept in float, and the accuracy each "
                   "recovers is measured on the run's own subset. Runs in the worker.")
        values = setting_inputs("diagnose", api.settings_fields("diagnose"), columns=2)
        active = any(d.status in ACTIVE_STATUSES for d in api.diagnoses(run.id, "sensitivity"))
        st.fragment(sensitivity_panel, run_every=LIVE_ACTIVE_S if active else None)(run, values)
with time_tab:
    profiled = [r for r in done if api.diagnosable(r, "profile")]
    if not profiled:
        st.info("This reads a done onnxruntime, OpenVINO or eager PyTorch run, of a classifier or a language model.")
    else:
        run = pick_run(profiled, "profile_choice", "Run", "profile")
        st.caption("The run's configuration is rebuilt as it was timed and called under its engine's profiler "
                   "(onnxruntime's, OpenVINO's performance counters, or torch.profiler): the time of every operator, "
                   "by type and by node (a language model's per token, over whole generations of its prompts). Runs "
                   "in the worker.")
        values = setting_inputs("profile", api.settings_fields("profile"), columns=2)
        active = any(d.status in ACTIVE_STATUSES for d in api.diagnoses(run.id, "profile"))
        st.fragment(profile_panel, run_every=LIVE_ACTIVE_S if active else None)(run, values)
