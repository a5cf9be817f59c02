"""Stored runs, newest first, with the latency/accuracy front marked."""
import pandas as pd
import streamlit as st

from pages.common import get_api

st.title("InferScope")
st.caption("Which optimizations buy how much speed for how much accuracy, measured on this machine.")

api = get_api()
runs = api.runs()
if not runs:
    st.info("No runs yet. Measure the default model from a terminal:\n\n"
            "`python -m core run --model resnet8 --dataset fashion-mnist --technique onnx_export "
            "--technique ort_static_int8`")
    st.stop()

front_ids = {r.id for r in api.front()}
table = pd.DataFrame([{
    "id": r.id, "status": r.status, "model": r.model, "dataset": r.dataset, "subset": r.subset_size,
    "recipe": r.recipe_summary, "batch": r.runtime.get("batch"), "threads": r.runtime.get("threads") or "all",
    "p50 ms": r.metrics.get("latency_p50_ms"), "p99 ms": r.metrics.get("latency_p99_ms"),
    "images/s": r.metrics.get("throughput_ips"), "top-1 %": r.metrics.get("top1"),
    "agreement %": r.metrics.get("agreement"), "size MB": r.metrics.get("size_mb"),
    "on front": r.id in front_ids, "error": r.error or "",
} for r in reversed(runs)])
done = sum(r.status == "done" for r in runs)
left, middle, right = st.columns(3)
left.metric("runs", len(runs))
middle.metric("done", done)
right.metric("on the p50 / top-1 front", len(front_ids))
st.dataframe(table, hide_index=True, width="stretch",
             column_config={"p50 ms": st.column_config.NumberColumn(format="%.3f"),
                            "p99 ms": st.column_config.NumberColumn(format="%.3f"),
                            "images/s": st.column_config.NumberColumn(format="%.0f"),
                            "top-1 %": st.column_config.NumberColumn(format="%.2f"),
                            "agreement %": st.column_config.NumberColumn(format="%.2f"),
                            "size MB": st.column_config.NumberColumn(format="%.3f")})
