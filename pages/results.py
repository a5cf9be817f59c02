"""Results: the latency/accuracy Pareto front, constraints, and the runs table."""
import pandas as pd
import streamlit as st

from core import views
from core.errors import InferScopeError
from core.metrics import (
    ACCURACY_METRICS,
    CATALOGUE,
    LATENCY_METRICS,
    QUALITY_METRICS,
    SPEED_METRICS,
    SUMMARY_METRICS,
)
from core.store import ACTIVE_STATUSES
from core.wording import drop_limit
from pages.common import get_api, jobs_state, refresh_on_change
from pages.exploration_view import show_exploration
from pages.front_chart import front_figure

EVERY_CONFIGURATION = "configuration (what differs)"

st.title("Results")
api = get_api()
runs = api.runs()
# the queue's rows and the newest finished run: what changes when a run starts, moves or ends (cheap, indexed reads)
refresh_on_change("results_state", lambda: (jobs_state(api.queue()), jobs_state(api.latest_finished(1))),
                  any(r.status in ACTIVE_STATUSES for r in runs))
if not runs:
    st.info("No runs yet: queue some on the **Run** page.")
    st.page_link("pages/run.py", label="Go to Run", icon=":material/play_arrow:")
    st.stop()

# -- filters -------------------------------------------------------------------------------------
with st.expander("Filter", expanded=False):
    f1, f2, f3, f4 = st.columns(4)
    models = f1.multiselect("Model", sorted({r.model for r in runs}), key="f_model")
    datasets = f2.multiselect("Dataset", sorted({r.dataset for r in runs}), key="f_dataset")
    recipes = f3.multiselect("Techniques", sorted({r.recipe_summary for r in runs}), key="f_recipe")
    statuses = f4.multiselect("Status", sorted({r.status for r in runs}), key="f_status")
    g1, g2, g3, g4 = st.columns(4)
    tags = g1.multiselect("Tag", sorted({t for r in runs for t in r.tags}), key="f_tag")
    picked_targets = g4.multiselect("Target", views.targets_in_order(runs), key="f_target")
    scenarios = g2.multiselect("Scenario", sorted({r.scenario for r in runs}), key="f_scenario")
    explorations = {e.id: e for e in api.explorations()}
    if st.session_state.get("f_exploration") not in (None, *explorations):
        st.session_state.pop("f_exploration")
    exploration = g3.selectbox("Exploration", [None, *explorations], key="f_exploration",
                               format_func=lambda i: "any run" if i is None else
                               f"{i}: {explorations[i].config.get('model')} · {explorations[i].status}")
if exploration is not None and st.session_state.get("constraints_of") != exploration:
    # Show the exploration's own constraints (the user may change them below).
    config = explorations[exploration].config
    st.session_state["max_drop"] = float(config.get("max_drop") or 0.0)
    st.session_state["max_latency"] = float(config.get("max_latency_ms") or 0.0)
    st.session_state["constraints_of"] = exploration
of_exploration = None if exploration is None else {r.id for r in api.exploration_runs(exploration)}  # reused too
shown = views.filter_runs(runs, models=models, datasets=datasets, recipes=recipes, statuses=statuses, tags=tags,
                          scenarios=scenarios, run_ids=of_exploration, targets=picked_targets)
if exploration is not None:
    show_exploration(api, exploration)
if not shown:
    st.info("No runs match the filters" + (" yet: the exploration's first trial is still running." if exploration
                                           is not None else "."))
    st.stop()

# -- the front -----------------------------------------------------------------------------------
c1, c2, c3, c4, c5, c6 = st.columns([2, 2, 1.4, 1.6, 2, 2])
first_task = views.run_task(shown[0]).front  # the axes start as the task's own front (a language model: perplexity)
st.session_state.setdefault("x", first_task[0])
st.session_state.setdefault("y", first_task[1])
x = c1.selectbox("x (speed)", list(SPEED_METRICS), format_func=lambda m: CATALOGUE[m].label, key="x")
y = c2.selectbox("y (quality)", list(QUALITY_METRICS), format_func=lambda m: CATALOGUE[m].label, key="y")
log_x = c3.checkbox("log x", key="log_x")
per_image = c3.checkbox("per input", key="per_image",
                        help="divide each call's latency by its batch size (per image, or per text)")
labels = views.run_labels(shown)
configs = {r.id: views.configuration(r) for r in shown}
colour_fields = ["techniques", EVERY_CONFIGURATION, *(f for f in views.varying_fields(shown) if f != "techniques")]
if st.session_state.get("colour_by") not in colour_fields:  # the filters changed what varies
    st.session_state["colour_by"] = "techniques"
colour_by = c4.selectbox("Colour by", colour_fields, key="colour_by",
                         help="any configuration field that differs among the shown runs")
st.session_state.setdefault("max_latency", 0.0)  # set here, not by value=: an exploration may preset them
st.session_state.setdefault("max_drop", 0.0)
max_latency = c5.number_input("Max latency (ms, 0 = none)", min_value=0.0, key="max_latency")
max_drop = c6.number_input("Max drop vs FP32 (points, 0 = none)", min_value=0.0, step=0.5, key="max_drop",
                           help="points of top-1 or of agreement; for perplexity or KL, per cent of FP32's value")
targets_shown = views.targets_in_order(shown)
one_front = len(targets_shown) > 1 and st.checkbox(
    "One front across targets", key="one_front",
    help="off: each target gets its own chart and front, since a speed on one machine says nothing about another's")
facets = views.facets(shown, by_target=not one_front)  # one chart per task, and per target unless one front
if one_front:
    st.caption("One front over every target: colour by target to tell them apart; runs of other machines are drawn "
               "hollow (another environment).")
front: list[int] = []
for facet, facet_runs in facets:
    if facet is not None:
        st.markdown(f"**{facet}**")
    fx, fy = views.axes_for(facet_runs, x, y)
    if (fx, fy) != (x, y):
        st.caption(f"Drawn on {views.run_task(facet_runs[0]).words}'s own axes ({CATALOGUE[fx].label}, "
                   f"{CATALOGUE[fy].label}): none of its runs has {CATALOGUE[x].label} and {CATALOGUE[y].label}.")
    points = views.plot_points(facet_runs, fx, fy, max_latency_ms=max_latency or None, max_drop=max_drop or None,
                               per_image=per_image)
    unapplied = [words for value, applies, words in (
        (max_latency, fx in LATENCY_METRICS, f"max latency (the x axis, {CATALOGUE[fx].label}, is no latency)"),
        (max_drop, any(p.drop is not None for p in points),
         f"max drop (no run here has an FP32 baseline's {CATALOGUE[fy].words} to drop from)"))
        if value and not applies]
    if unapplied:
        st.caption("Not applied to this chart: " + "; ".join(unapplied) + ".")
    elif max_drop and fy not in ACCURACY_METRICS:  # a drop of perplexity is a share of FP32's, not points
        st.caption(f"Max drop on this chart: {drop_limit(max_drop, fy)}.")
    facet_front = [p.run.id for p in points if p.on_front]
    front += facet_front
    if points:
        group_of = (lambda run: labels[run.id]) if colour_by == EVERY_CONFIGURATION else (
            lambda run: configs[run.id].get(colour_by, "–"))
        figure = front_figure(points, fx, fy, group_of=group_of, legend_title=f"{colour_by} (symbol = model)",
                              labels=labels, per_image=per_image, log_x=log_x)
        st.plotly_chart(figure, key=f"front_chart_{facet}" if facet else "front_chart")
        st.caption(f"{len(points)} runs plotted, {len(facet_front)} on the front ({', '.join(map(str, facet_front))});"
                   f" error bars: 95% intervals of the {CATALOGUE[fy].words}"
                   + (" and of the latency percentile" if CATALOGUE[fx].interval else "")
                   + ". Grey points break a constraint and are left out of the front.")
        noisy = views.noisy_summary([p.run for p in points])
        if noisy:
            st.warning(noisy + " They are outlined in amber.")
        if len({p.run.scenario for p in points}) > 1:
            st.warning("These runs were timed under different scenarios, so their latencies mean different things (a "
                       "server's includes queueing). Filter to one scenario for an honest front, or colour by "
                       "scenario.")
        if any(not p.comparable for p in points):
            st.warning("Some runs were measured in a different environment (CPU, cores, device or library versions): "
                       "they are drawn hollow and are not comparable with the others.")
    else:  # an empty chart would show made-up axes and "0 on the front ()"
        waiting = sum(r.status != "done" for r in facet_runs)
        st.info(f"None of the {len(facet_runs)} shown runs has both a {CATALOGUE[fx].label} and a "
                f"{CATALOGUE[fy].label} yet" + (f": {waiting} of them are queued, running or failed." if waiting
                                               else ": pick other axes above."))


# -- table, selection, tags, delete, CSV ------------------------------------------------------------
front_ids = set(front)
# Key columns first, so the numbers a user compares are on screen without scrolling; metric columns no
# shown run has (e.g. cache hits without a cache) are left out.
KEY_METRICS = ("top1", "latency_p50_ms", "agreement", "size_mb")
metric_columns = [m for m in (*KEY_METRICS, *(m for m in SUMMARY_METRICS if m not in KEY_METRICS))
                  if any(r.metrics.get(m) is not None for r in shown)]
table = pd.DataFrame([{
    "id": r.id, "configuration": labels[r.id], **{CATALOGUE[m].column: r.metrics.get(m) for m in metric_columns},
    "front": r.id in front_ids, "noisy": r.noisy, "doctor": " · ".join(f["figure"] for f in r.advice),
    "status": r.status, "model": r.model, "techniques": r.recipe_summary,
    "batch": r.runtime.get("batch"), "threads": r.runtime.get("threads") or "all", "scenario": r.scenario,
    "dataset": r.dataset, "subset": r.subset_size, "target": views.target_of(r), "tags": ", ".join(r.tags),
    "error": r.error or "",
} for r in reversed(shown)])
columns = {CATALOGUE[m].column: st.column_config.NumberColumn(format="%" + CATALOGUE[m].fmt) for m in metric_columns}
event = st.dataframe(table, hide_index=True, key="runs_table", on_select="rerun", selection_mode="multi-row",
                     placeholder="",  # a missing value is a blank, not "None"
                     column_config={**columns, "configuration": st.column_config.TextColumn(width="large"),
                                    "doctor": st.column_config.TextColumn(
                                        help="the doctor's notes: what each finding suggests is on Compare and in "
                                             "`python -m core show`")})
picked_rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
from_table = [int(table.iloc[i]["id"]) for i in picked_rows if i < len(table)]  # filters may shrink the table
run_names = views.run_labels(runs)
selected = st.multiselect("Selected runs (select rows above, or pick here)", table["id"].tolist(),
                          default=from_table, key=f"selected_{'_'.join(map(str, from_table))}",
                          format_func=lambda i: f"#{i} {run_names.get(i, '')}".strip())
st.session_state["selected_runs"] = selected

b1, b2, b3, b4 = st.columns(4)
if b1.button("Compare selected", disabled=len(selected) < 2, key="go_compare",
             help="select two or more runs to compare" if len(selected) < 2 else None):
    st.switch_page("pages/compare.py")
if b2.button("Export selected", disabled=len(selected) != 1, key="go_export",
             help=None if len(selected) == 1 else f"select exactly one run to export ({len(selected)} selected)"):
    st.session_state["export_run"] = selected[0]
    st.switch_page("pages/export.py")
new_tags = b3.text_input("Tags for the selected runs", key="tags_text", placeholder="baseline, shipped",
                         label_visibility="collapsed")
if b3.button("Set tags", disabled=not selected, key="set_tags", help=None if selected else "select runs to tag"):
    for run_id in selected:
        api.tag(run_id, new_tags.split(","))
    st.rerun()
if b4.button("Delete selected", disabled=not selected, key="delete",
             help=None if selected else "select runs to delete"):
    st.session_state["confirm_delete"] = list(selected)
pending = st.session_state.get("confirm_delete")
if pending:
    st.warning(f"Delete run(s) {', '.join(map(str, pending))} and their samples? This cannot be undone.")
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key="confirm_yes"):
        problems = []
        for run_id in pending:
            try:
                api.delete(run_id)
            except InferScopeError as exc:  # show every refusal, delete the rest
                problems.append(f"{run_id}: {exc}")
        st.session_state.pop("confirm_delete")
        if problems:
            st.session_state["delete_problems"] = problems
        st.rerun()
    if no.button("Keep them", key="confirm_no"):
        st.session_state.pop("confirm_delete")
        st.rerun()
for problem in st.session_state.pop("delete_problems", []):
    st.error(problem)
st.download_button("Download all runs (CSV)", lambda: api.runs_csv(api.runs()), file_name="inferscope-runs.csv",
                   mime="text/csv", key="csv")
