"""Export: the recommended (or any) run as one verified ONNX file to download."""
from pathlib import Path

import pandas as pd
import streamlit as st

from core import quoting, views, wording
from core.errors import InferScopeError
from core.metrics import CATALOGUE
from pages.common import get_api

st.title("Export")
api = get_api()
done = [r for r in api.runs() if r.status == "done"]
if not done:
    st.info("No finished runs to export yet.")
    st.stop()


def follow_recommendation() -> None:
    """New recommendation settings: the run picker goes back to what they recommend."""
    st.session_state.pop("export_run", None)


left, right, far = st.columns([2, 2, 1.3])
models = sorted({r.model for r in done})
model = right.selectbox("Model", ["all models", *models], key="rec_model", on_change=follow_recommendation)
# the quality the recommendation holds to: the model's task's (top-1; a language model's perplexity)
quality = api.recommendation_metric(None if model == "all models" else model)
unit = wording.drop_unit(quality)
max_drop = left.number_input(f"Max {CATALOGUE[quality].words} loss vs the model's FP32 baseline "
                             f"({'points' if unit == 'points' else '% of FP32'})", min_value=0.0,
                             value=wording.DEFAULT_MAX_DROP[unit], step=0.5, key=f"rec_drop_{unit}",
                             on_change=follow_recommendation)
include_noisy = far.checkbox("Include noisy runs", key="rec_noisy", on_change=follow_recommendation,
                             help="runs timed while other processes kept the machine busy; left out by default")
recommendation = api.recommend(max_drop, None if model == "all models" else model, include_noisy=include_noisy)
noisy = sum(r.noisy for r in done)
if recommendation:
    st.success(f"Recommended: {recommendation.reason}.")
else:
    st.info("No run meets the threshold yet (it needs a finished FP32 baseline of the same model and subset"
            + ("" if include_noisy else ", timed on a quiet machine") + "), so none is picked for you"
            + (f": {noisy} of the {len(done)} finished runs were timed on a busy machine — tick **Include noisy "
               "runs** to consider them, or pick a run below." if noisy and not include_noisy
               else "; pick a run below."))

by_id = {r.id: r for r in done}
plans = api.export_plans(done)
ids = list(reversed(by_id))
labels = views.run_labels(done)
# A run picked on another page wins, else the recommendation; the key follows it so a new recommendation
# moves the picker (a fixed key would keep the first choice forever).
# Without a recommendation nothing is preselected: the newest run may be one that broke the accuracy threshold.
preferred = st.session_state.get("export_run") or (recommendation.run.id if recommendation else None)
run_id = st.selectbox(
    "Run to export", ids, index=ids.index(preferred) if preferred in ids else None, key=f"export_choice_{preferred}",
    placeholder="pick a run",
    format_func=lambda i: (f"{i}: {labels[i]} · p50 {by_id[i].metrics['latency_p50_ms']:.3f} ms · "
                           + views.quality_words(by_id[i]) + ("" if plans[i].exportable else " · cannot be exported")))

with st.expander(f"Which runs can be exported ({sum(p.exportable for p in plans.values())} of {len(plans)})"):
    st.dataframe(pd.DataFrame([{"run": i, "configuration": labels[i],
                                "exports": "yes" if plans[i].exportable else "no",
                                "why not, or what the file does not carry":
                                    plans[i].refused or " ".join(plans[i].notes)} for i in ids]),
                 hide_index=True, width="stretch")

if run_id is None:
    st.stop()
plan = plans[run_id]
if by_id[run_id].noisy:
    st.warning(f"Run {run_id} was timed while other processes kept the machine busy "
               f"({by_id[run_id].metrics.get('other_cpu_pct') or 0:.0f}% of a core): its latency may be inflated. "
               "The file is the same; measure it again on a quiet machine before you quote its speed.")
if not plan.exportable:
    st.warning(plan.refused)
    if plan.alternative is not None:
        st.write(f"The nearest exportable configuration is **{plan.alternative_summary}** on the same model, "
                 "data and runtime settings.")
        if st.button(f"Queue {plan.alternative_summary}", key="queue_alternative"):
            try:
                new_id = api.queue_export_alternative(run_id)
            except InferScopeError as exc:
                st.error(str(exc))
            else:
                st.success(f"Queued run #{new_id} ({plan.alternative_summary}); export it here when it is done.")
for note in plan.notes:
    st.info(f"The file does not carry everything this run measured: {note}.")

if st.button("Build verified ONNX", type="primary", key="build", disabled=not plan.exportable,
             help=None if plan.exportable else plan.refused):
    with st.status(f"Exporting run {run_id}…", expanded=True) as status:
        bar = st.progress(0.0, text="starting")
        try:
            result = api.export_for_download(run_id, lambda stage, f: bar.progress(min(1.0, f), text=stage))
        except InferScopeError as exc:
            status.update(label=f"Export of run {run_id} failed", state="error")
            st.error(str(exc))
        else:
            status.update(label=f"Run {run_id} exported and verified", state="complete")
            st.session_state["exported"] = {"run_id": run_id, "path": str(result.path), "metric": result.metric,
                                            "stored": result.stored, "measured": result.measured,
                                            "verified_with": result.verified_with,
                                            "per_image": quoting.verified_words(result)}

exported = st.session_state.get("exported")
if exported and exported["run_id"] == run_id:
    path = Path(exported["path"])
    m1, m2, m3 = st.columns(3)
    difference = exported["measured"] - exported["stored"]
    words = CATALOGUE[exported["metric"]].words
    m1.metric(f"{words} of the file ({exported['verified_with']})", f"{exported['measured']:.2f}%",
              delta=f"{difference:+.2f} points vs the run", delta_color="normal" if round(difference, 2) else "off",
              delta_arrow="auto" if round(difference, 2) else "off")
    m2.metric(f"{words} stored on run {run_id}", f"{exported['stored']:.2f}%")
    st.caption(f"Verified: {exported['per_image']}.")
    if path.is_file():
        m3.metric("file size", f"{path.stat().st_size / 1e6:.2f} MB")
        what = "ONNX and tokenizer (zip)" if path.suffix == ".zip" else "ONNX"
        st.download_button(f"Download {what}", path.read_bytes(), file_name=path.name,
                           mime="application/octet-stream", type="primary", key="download")
    else:
        st.error(f"{path} was removed after it was built; build it again.")
