"""Compare: runs side by side — metric deltas, settings diff, latency distributions."""
import math
from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import comparable, metric_rows, quoting, views
from core.continuation_rows import continuation_rows, left_out
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

st.title("Compare")
api = get_api()
done = [r for r in api.runs() if r.status == "done"]
if len(done) < 2:
    st.info("Compare needs at least two finished runs.")
    st.stop()

by_id = {r.id: r for r in done}
wanted = [i for i in st.session_state.get("selected_runs", []) if i in by_id] or [r.id for r in done[-2:]]
every_label = views.run_labels(done)  # tells apart every run in the picker
chosen = st.multiselect("Runs", list(by_id), default=wanted, format_func=lambda i: f"{i}: {every_label[i]}",
                        key="compare_runs")
if len(chosen) < 2:
    st.warning("Pick at least two runs.")
    st.stop()
runs = [by_id[i] for i in chosen]
labels = views.run_labels(runs)  # what tells the chosen runs apart
label = lambda i: f"{i}: {labels[i]}"  # noqa: E731
# The reference defaults to an FP32 baseline among the chosen runs (speed-ups then read against it), for
# every new choice of runs: the key follows the choice, or the first choice's reference would stick.
baseline_index = next((k for k, i in enumerate(chosen) if comparable.is_baseline(by_id[i])), 0)
reference = by_id[st.selectbox("Reference run", chosen, index=baseline_index, format_func=label,
                               key=f"reference_{'_'.join(map(str, chosen))}")]
noisy = views.noisy_summary(runs)
if noisy:
    st.warning(noisy)

st.subheader("Metrics")
st.caption(f"Key metrics first; each value with its 95% interval in brackets where it has one, and each run against "
           f"run {reference.id} in words (a percentage such as top-1 in points). Metrics no chosen run has are left "
           "out.")
metrics = pd.DataFrame(metric_rows.metric_deltas(runs, reference))
st.dataframe(metrics, width="stretch", key="metrics_table", hide_index=True, height=36 + 35 * min(len(metrics), 14),
             column_config={"metric": st.column_config.TextColumn("metric", width="medium", pinned=True)})

if any(r.target for r in done):  # the hardware-selection view: one configuration on every target
    st.subheader("Across targets")
    across = views.across_targets(reference, done)
    st.caption(f"Run {reference.id}'s configuration ({labels[reference.id]}) on every target that measured it; each "
               "speed-up is against the FP32 baseline of its own target, never another machine's.")
    if len(across) > 1:
        st.dataframe(pd.DataFrame(across), hide_index=True, width="stretch", key="across_targets", placeholder="–",
                     column_config={"speed-up vs its FP32": st.column_config.NumberColumn(format="%.2fx")})
    else:
        st.info("Only one target measured this configuration so far: queue it on others from the Run page "
                "(Where → Targets) to compare machines.")

roofline = [row for row in map(views.roofline_row, runs) if row is not None]
if roofline:
    with st.expander("Against this machine's peak (roofline)"):
        st.caption("Achieved = the model's FLOPs per image × images per second; the peak is a square matrix product "
                   "in that precision on all cores, measured once per environment. A small model is far from its "
                   "peak: per-call overhead, not arithmetic, sets its speed.")
        st.dataframe(pd.DataFrame(roofline), hide_index=True, width="stretch", key="roofline_table",
                     column_config={"achieved GOP/s": st.column_config.NumberColumn(format="%.3g"),
                                    "peak GOP/s": st.column_config.NumberColumn(format="%.0f"),
                                    "share of peak %": st.column_config.NumberColumn(format="%.2g")})

advice = [(run, finding) for run in runs for finding in run.advice]
if advice:
    with st.expander(f"The doctor's notes ({len(advice)})", expanded=True):
        for run, finding in advice:
            st.markdown(f"**Run {run.id}** — {finding['figure']}: {finding['advice']}")

st.download_button("Download a report (HTML, readable offline)", lambda: api.report(chosen),
                   file_name=f"inferscope-runs-{'-'.join(map(str, chosen))}.html", mime="text/html",
                   key="report", help="the chart, these metrics and settings, the doctor's notes, the runs' latest "
                                      "diagnoses and environments in one file")

SHOWN_PROMPTS = 4


def show_continuations(rows, skipped) -> None:
    """Each prompt's greedy continuations: FP32's, then each run's with its first token unlike FP32's marked."""
    st.subheader("Continuations against FP32")
    st.caption("Greedy continuations of the first prompts, FP32's first (the reference each run measured itself "
               "against), then each run's: the first token where it parts from FP32 is highlighted and what follows "
               "it is greyed (it continues from another token). Leading spaces are the tokenizer's.")
    for k, row in enumerate(rows[:SHOWN_PROMPTS]):
        lines = [f"<b>Prompt {k + 1}</b> <span style='color:#6b7280'>{escape(row.prompt)}</span>",
                 f"<b>FP32</b>: {escape(row.fp32)}"]
        for part in row.parts:
            if part.first_difference is None:
                text = f"{escape(part.agreed)} <i>(all {part.tokens} tokens as FP32)</i>"
            else:
                text = (f"{escape(part.agreed)}<mark>{escape(part.differing)}</mark><span style='color:#9ca3af'>"
                        f"{escape(part.rest)}</span> <i>(parts at token {part.first_difference + 1} of "
                        f"{part.tokens})</i>")
            lines.append(f"<b>Run {part.run_id}</b>: {text}")
        st.markdown("<br>".join(lines), unsafe_allow_html=True)
    if len(rows) > SHOWN_PROMPTS:
        st.caption(f"The first {SHOWN_PROMPTS} of {len(rows)} prompts.")
    if skipped:
        st.caption("Not shown: " + ", ".join(f"run {r.id}" for r in skipped) + " (no continuations stored, or other "
                   "prompts: another model, prompt length, subset or seed).")


st.subheader("Paired re-measurement")
st.caption("Runs measured at different times differ by as much as the machine drifts. This rebuilds the chosen runs "
           "in one process and times them in interleaved rounds, so drift hits all of them alike: each run's speed "
           f"against run {reference.id} with a 95% interval (a language model's per generated token), and a verdict. "
           "Runs in the worker.")


def not_offered(analysis: str, run_ids) -> bool:
    """Say so, and return True, when a chosen run's task has no form of `analysis` yet (text generation's runs)."""
    lacking = api.lacking(analysis, run_ids)
    for words in lacking:
        st.caption(f"Not available for {words} runs yet.")
    return bool(lacking)


def paired_panel(run_ids: tuple[int, ...], reference_id: int) -> None:
    if not_offered("remeasure", run_ids):
        return
    matching = [c for c in api.comparisons() if set(c.run_ids) == set(run_ids) and c.reference_id == reference_id]
    latest = matching[-1] if matching else None
    busy = latest is not None and latest.status in ACTIVE_STATUSES
    if st.button("Re-measure side by side", disabled=busy, key="remeasure"):
        try:
            api.request_comparison(list(run_ids), reference_id)
        except InferScopeError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if latest is None:
        st.caption("No paired re-measurement of these runs against this reference yet.")
        return
    if not job_state(api, "comparison", latest, "paired"):
        return
    runs = {r.id: r for r in (api.run(i) for i in latest.run_ids)}
    st.dataframe(pd.DataFrame(quoting.paired_rows(latest, runs)), hide_index=True, width="stretch", key="paired_table")
    if latest.noisy:
        st.warning(latest.note or f"While it timed: {quoting.contention_words(latest)}.")
    else:
        st.caption(f"While it timed: {quoting.contention_words(latest)}.")
    for run_id in latest.run_ids:
        quote = quoting.paired_quote(latest, runs[run_id], runs[reference_id]) if run_id != reference_id else None
        if quote and "it disagrees with the unpaired" in quote:
            st.warning(quote)


paired_active = any(c.status in ACTIVE_STATUSES for c in api.comparisons())
st.fragment(paired_panel, run_every=LIVE_ACTIVE_S if paired_active else None)(tuple(chosen), reference.id)

st.subheader("Settings and environment")
only_diff = st.checkbox("Only fields that differ", value=True, key="only_diff")
diff = pd.DataFrame(views.settings_diff(runs))
if only_diff:
    diff = diff[diff["differs"]]
table = diff.drop(columns="differs").set_index("field")
reference_column = f"run {reference.id}"
# Only the cells that differ from the reference run are highlighted, so the highlight says where.
styled = table.style.apply(lambda row: ["background-color: #fef3c7" if value != row[reference_column] else ""
                                        for value in row], axis=1)
st.caption(f"Highlighted: values that differ from the reference, run {reference.id}.")
st.dataframe(styled, width="stretch", key="diff_table")

continuations = continuation_rows(runs)
if continuations:  # language models: what they generate, against FP32's tokens
    show_continuations(continuations, left_out(runs))
else:
    st.subheader(f"Flips against run {reference.id}")
    same_images = [r for r in runs
                   if r.id != reference.id and comparable.images_key(r) == comparable.images_key(reference)]
    if not same_images:
        st.caption(f"No other chosen run was scored on run {reference.id}'s images.")
    else:
        other = by_id[st.selectbox("Run", [r.id for r in same_images], format_func=label, key="flips_run")]
        try:
            found = api.flips(other.id, reference.id)
        except InferScopeError as exc:
            st.info(str(exc))
        else:
            flipped, classes = found["flips"], found["classes"]
            name = lambda c: "?" if c is None else classes[c]  # noqa: E731
            item = "texts" if found["texts"] else "images"
            st.caption(f"{len(flipped.indices)} of {other.subset_size} {item} changed their top-1 between run "
                       f"{reference.id} and run {other.id}"
                       + (f": {flipped.fixed} to the true class, {flipped.broken} away from it" if flipped.truth
                          and flipped.truth[0] is not None else "") + ".")
            if found["images"]:
                shown = len(found["images"])  # the first few of the flips
                st.image(found["images"], width=72, caption=[
                    f"true {name(t)} · {name(a)} → {name(b)}" for t, a, b in
                    zip(flipped.truth[:shown], flipped.reference[:shown], flipped.run[:shown])])
                if shown < len(flipped.indices):
                    st.caption(f"The first {shown} of {len(flipped.indices)}: true class · run {reference.id} → "
                               f"run {other.id}.")
            if found["texts"]:
                shown = len(found["texts"])
                st.dataframe(pd.DataFrame({"text": found["texts"], "true": [name(t) for t in flipped.truth[:shown]],
                                           f"run {reference.id}": [name(a) for a in flipped.reference[:shown]],
                                           f"run {other.id}": [name(b) for b in flipped.run[:shown]]}),
                             hide_index=True, width="stretch", key="flipped_texts")
                if shown < len(flipped.indices):
                    st.caption(f"The first {shown} of {len(flipped.indices)}.")
            if any(v for row in flipped.confusion_change for v in row):
                change = go.Figure(go.Heatmap(
                    z=flipped.confusion_change, x=classes, y=classes, colorscale="RdBu", zmid=0,
                    hovertemplate="true %{y}, predicted %{x}: %{z:+d}<extra></extra>"))
                change.update_layout(xaxis_title=f"predicted by run {other.id}", yaxis_title="true class", height=420,
                                     yaxis_autorange="reversed", margin=dict(t=20),
                                     title=dict(text=f"confusion matrix of run {other.id} less run {reference.id}'s",
                                                font=dict(size=13)))
                st.plotly_chart(change, key="confusion_change")

st.subheader("Latency distribution")
samples_by_run = {run.id: api.samples(run.id) for run in runs}
left, right = st.columns([3, 1])
kind = left.segmented_control("Plot", ["ECDF", "Histogram"], default="ECDF", key="dist_kind")
wide = views.needs_log_axis(list(samples_by_run.values()))
log_x = right.toggle("Log latency axis", value=wide, key=f"dist_log_{wide}",
                     help="on by default when the samples span more than 10x")
figure = go.Figure()
bars = views.log_histogram(list(samples_by_run.values())) if kind == "Histogram" and log_x else None
for k, run in enumerate(runs):
    samples = samples_by_run[run.id]
    name = f"run {label(run.id)}"
    if bars:
        figure.add_trace(go.Bar(x=bars.centers, y=bars.counts[k], width=bars.widths, name=name, opacity=0.55))
    elif kind == "Histogram":
        figure.add_trace(go.Histogram(x=samples, name=name, opacity=0.55, nbinsx=60))
    else:
        xs, ys = views.ecdf(samples)
        figure.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=name, line=dict(shape="hv")))
figure.update_layout(barmode="overlay", xaxis_title="latency per call (ms)" + (", log scale" if log_x else ""),
                     yaxis_title="share of calls" if kind != "Histogram" else "calls", height=420, margin=dict(t=30))
if log_x:
    figure.update_xaxes(**views.log_axis(v for s in samples_by_run.values() for v in s))
st.plotly_chart(figure, key="distribution_chart")

st.subheader("Latency–throughput curve")
st.caption("The server scenario swept upward in rate until the model saturates: latency percentiles against "
           "the rate actually achieved. Runs in the worker, after any queued runs.")
curve_run = by_id[st.selectbox("Configuration of run", chosen, format_func=label, key="curve_run")]


def curve_panel(run_id: int) -> None:
    if not_offered("curve", (run_id,)):
        return
    curves = api.curves(run_id)
    latest = curves[-1] if curves else None
    busy = latest is not None and latest.status in ACTIVE_STATUSES
    fields, last = api.settings_fields("curve"), latest.config if latest else None  # start from the last sweep's
    values = setting_inputs(f"curve_{run_id}", fields, only=("latency_bound_ms", "points"), defaults=last, columns=2)
    with st.expander("Sweep settings"):
        values |= setting_inputs(f"curve_{run_id}", fields, only=("growth", "start_share", "seconds_per_point"),
                                 defaults=last)
    bound = values["latency_bound_ms"]
    why_not = "one is under way" if busy else "; ".join(values.problems) or None
    if st.button("Measure curve", disabled=why_not is not None, key="measure_curve", help=why_not):
        try:
            api.request_curve(run_id, values)
        except InferScopeError as exc:
            st.error(str(exc))
        else:
            st.rerun()
    if latest is None:
        st.info(f"No curve for run {run_id} yet: set a p99 bound and press **Measure curve**.")
        return
    job_state(api, "curve", latest, "curve")
    if not latest.points:
        return
    summary = views.curve_summary(latest.points, bound)
    figure = go.Figure()
    achieved = [p.achieved_rate_rps for p in latest.points]
    for name, field in (("p50", "latency_p50_ms"), ("p90", "latency_p90_ms"), ("p99", "latency_p99_ms")):
        figure.add_trace(go.Scatter(
            x=achieved, y=[getattr(p, field) for p in latest.points], mode="lines+markers", name=name,
            customdata=[[p.target_rate_rps, p.dropped] for p in latest.points],
            hovertemplate=name + " %{y:.3g} ms at %{x:.0f} requests/s<br>target %{customdata[0]:.0f}/s, "
                                 "dropped %{customdata[1]}<extra></extra>"))
    figure.add_hline(y=bound, line_dash="dot", line_color="#6b7280")
    # an annotation on a log axis is placed in log10 units (add_hline's own label would sit a decade off)
    figure.add_annotation(x=1, xref="paper", xanchor="right", y=math.log10(bound), yanchor="bottom",
                          text=f"bound {bound:g} ms", showarrow=False, font=dict(color="#6b7280"))
    marks = [("saturation", summary.saturation, "star", "#dc2626")]
    if summary.best_under_bound:
        marks.append(("highest rate within the bound", summary.best_under_bound, "diamond", "#16a34a"))
    for name, point, symbol, colour in marks:
        figure.add_trace(go.Scatter(x=[point.achieved_rate_rps], y=[point.latency_p99_ms], mode="markers",
                                    name=name, marker=dict(symbol=symbol, size=16, color=colour)))
    plotted = [getattr(p, f) for p in latest.points for f in ("latency_p50_ms", "latency_p90_ms", "latency_p99_ms")]
    figure.update_layout(xaxis_title="achieved throughput (requests/s)", yaxis_title="latency (ms), log scale",
                         height=420, yaxis=views.log_axis([*plotted, bound]), margin=dict(t=30))
    st.plotly_chart(figure, key="curve_chart")
    best = (f"{summary.best_under_bound.achieved_rate_rps:.0f} requests/s keep p99 under {bound:g} ms"
            if summary.best_under_bound else f"no measured rate keeps p99 under {bound:g} ms")
    st.caption(f"Curve {latest.id} ({latest.status}, {len(latest.points)} rates): saturation at "
               f"{summary.saturation.achieved_rate_rps:.0f} requests/s; {best}.")


active = any(c.status in ACTIVE_STATUSES for c in api.curves(curve_run.id))
st.fragment(curve_panel, run_every=LIVE_ACTIVE_S if active else None)(curve_run.id)
# a comparison or curve queued from the CLI, or one that ended, shows without a reload
refresh_on_change("compare_state", lambda: (jobs_state(api.comparisons()), jobs_state(api.curves(curve_run.id))),
                  active or paired_active)
