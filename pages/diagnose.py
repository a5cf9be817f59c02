"""Diagnose: where an INT8 run's accuracy went, node by node, with one click to the next run."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import views
from core.errors import InferScopeError
from core.store import ACTIVE_STATUSES
from pages.common import get_api
from pages.forms import setting_inputs

st.title("Diagnose")
api = get_api()
int8 = [r for r in api.runs("done") if any(s["technique"] == "ort_static_int8" for s in r.recipe)]
if not int8:
    st.info("Diagnose reads a done ONNX Runtime static INT8 run (e.g. onnx_export → ort_static_int8): queue one on "
            "the **Run** page.")
    st.page_link("pages/run.py", label="Go to Run", icon=":material/play_arrow:")
    st.stop()

labels = views.run_labels(int8)
by_id = {r.id: r for r in int8}
ids = list(reversed(by_id))
wanted = st.session_state.get("diagnose_run")
run = by_id[st.selectbox("INT8 run", ids, index=ids.index(wanted) if wanted in ids else 0, key="diagnose_choice",
                         format_func=lambda i: f"{i}: {labels[i]} · {views.metric_text(by_id[i], 'top1')} top-1")]
st.caption("Each quantized node's output is compared with the FP32 model's on calibration images (onnxruntime's "
           "qdq_loss_debug): its SQNR and the quantization noise it adds. The nodes adding the most are then "
           "requantized one at a time with that node kept in float, and the accuracy each recovers is measured on "
           "the run's own subset. Runs in the worker.")
values = setting_inputs("diagnose", api.settings_fields("diagnose"), columns=2)


def diagnosis_panel(run_id: int, values: dict) -> None:
    records = api.diagnoses(run_id)
    latest = records[-1] if records else None
    busy = latest is not None and latest.status in ACTIVE_STATUSES
    if st.button("Diagnose", type="primary", disabled=busy, key="diagnose",
                 help="a diagnosis of this run is under way" if busy else None):
        try:
            api.request_diagnosis(run_id, values)
        except InferScopeError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if latest is None:
        st.caption(f"Run {run_id} has not been diagnosed yet.")
        return
    if busy:
        st.progress(min(1.0, latest.progress), text=f"diagnosis {latest.id}: {latest.status}"
                    + (f" · {latest.stage}" if latest.stage else ""))
        return
    if latest.status != "done":
        st.error(f"Diagnosis {latest.id} {latest.status}: {latest.error}")
        return
    show_diagnosis(latest)


def show_diagnosis(diagnosis) -> None:
    summary, nodes = diagnosis.summary, diagnosis.nodes
    words = "top-1" if summary["metric"] == "top1" else "agreement with FP32"
    st.success(f"Diagnosis {diagnosis.id}: {words} {summary['int8']:.2f}% in INT8 against {summary['float']:.2f}% in "
               f"FP32; {summary['quantized_nodes']} quantized nodes compared on {summary['images_compared']} "
               "calibration images.")
    tried = [n for n in nodes if n["recovered"] is not None]
    if tried:
        figure = go.Figure(go.Bar(x=[n["recovered"] for n in tried], y=[n["node"] for n in tried], orientation="h",
                                  marker_color=["#16a34a" if n["recovered"] > 0 else "#9ca3af" for n in tried],
                                  customdata=[[n["op_type"], n["noise_added_pct"]] for n in tried],
                                  hovertemplate="%{y} (%{customdata[0]})<br>recovers %{x:+.2f} points<br>adds "
                                                "%{customdata[1]:.3g}% noise<extra></extra>"))
        figure.update_layout(xaxis_title=f"{words} recovered with this node alone in float (points)", height=120 +
                             28 * len(tried), yaxis=dict(autorange="reversed", title=None), margin=dict(t=20))
        st.plotly_chart(figure, key="recovered_chart")
    table = pd.DataFrame([{"node": n["node"], "op": n["op_type"], "SQNR (dB)": n["sqnr_db"],
                           "noise added (% of signal)": n["noise_added_pct"],
                           f"{words} recovered in float (points)": n["recovered"]} for n in nodes])
    st.dataframe(table, hide_index=True, width="stretch", key="nodes_table", placeholder="not tried",
                 column_config={"SQNR (dB)": st.column_config.NumberColumn(format="%.1f"),
                                "noise added (% of signal)": st.column_config.NumberColumn(format="%.3g"),
                                f"{words} recovered in float (points)":
                                    st.column_config.NumberColumn(format="%+.2f")})
    helpful = diagnosis.most_sensitive(len(nodes))
    if not helpful:
        st.info("No node recovers accuracy on its own in float: the loss is spread over the model (try "
                "calibration_method=Percentile or Entropy, or per_channel) rather than in one layer.")
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


active = any(d.status in ACTIVE_STATUSES for d in api.diagnoses(run.id))
st.fragment(diagnosis_panel, run_every=2.0 if active else None)(run.id, values)
