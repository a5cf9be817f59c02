"""Results: the latency/accuracy Pareto front, constraints, and the runs table."""
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core import views
from core.errors import InferScopeError
from core.metrics import (
    ACCURACY_METRICS,
    CATALOGUE,
    LATENCY_METRICS,
    SUMMARY_METRICS,
)
from pages.common import get_api
from pages.exploration_view import show_exploration

# What the points' colours group by.
NOISY_OUTLINE = "#f59e0b"  # amber: timed while other processes kept the machine busy
COLOUR_BY = {"techniques": lambda run: run.recipe_summary, "scenario": lambda run: run.scenario,
             "model": lambda run: run.model}

st.title("Results")
api = get_api()
runs = api.runs()
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
    g1, g2, g3 = st.columns(3)
    tags = g1.multiselect("Tag", sorted({t for r in runs for t in r.tags}), key="f_tag")
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
shown = views.filter_runs(runs, models=models, datasets=datasets, recipes=recipes, statuses=statuses, tags=tags,
                          scenarios=scenarios, exploration=exploration)
if exploration is not None:
    show_exploration(api, exploration)
if not shown:
    st.info("No runs match the filters" + (" yet: the exploration's first trial is still running." if exploration
                                           is not None else "."))
    st.stop()

# -- the front -----------------------------------------------------------------------------------
c1, c2, c3, c4, c5, c6 = st.columns([2, 2, 1.4, 1.6, 2, 2])
x = c1.selectbox("x (latency)", list(LATENCY_METRICS), format_func=lambda m: CATALOGUE[m].label, key="x")
y = c2.selectbox("y (accuracy)", list(ACCURACY_METRICS), format_func=lambda m: CATALOGUE[m].label, key="y")
log_x = c3.checkbox("log x", key="log_x")
per_image = c3.checkbox("per image", key="per_image", help="divide each call's latency by its batch size")
colour_by = c4.selectbox("Colour by", list(COLOUR_BY), key="colour_by")
st.session_state.setdefault("max_latency", 0.0)  # set here, not by value=: an exploration may preset them
st.session_state.setdefault("max_drop", 0.0)
max_latency = c5.number_input("Max latency (ms, 0 = none)", min_value=0.0, key="max_latency")
max_drop = c6.number_input("Max drop vs FP32 (points, 0 = none)", min_value=0.0, step=0.5, key="max_drop")
points = views.plot_points(shown, x, y, max_latency_ms=max_latency or None, max_drop=max_drop or None,
                           per_image=per_image)

figure = go.Figure()
symbols = ["circle", "square", "diamond", "triangle-up", "cross", "x", "star", "hexagon", "pentagon", "triangle-down"]
model_symbol = {m: symbols[i % len(symbols)] for i, m in enumerate(sorted({p.run.model for p in points}))}
palette = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04", "#db2777", "#4b5563",
           "#65a30d"]
group_of = COLOUR_BY[colour_by]
combos = sorted({group_of(p.run) for p in points})
for i, combo in enumerate(combos):
    for allowed in (True, False):
        group = [p for p in points if group_of(p.run) == combo and p.allowed == allowed]
        if not group:
            continue
        low, high = CATALOGUE[y].interval
        error_y = dict(type="data", symmetric=False,
                       array=[(p.run.metrics.get(high) or p.y) - p.y for p in group],
                       arrayminus=[p.y - (p.run.metrics.get(low) or p.y) for p in group],
                       thickness=1, width=0)
        x_low, x_high = CATALOGUE[x].interval or (None, None)  # the percentile's 95% interval
        error_x = dict(type="data", symmetric=False, thickness=1, width=0,
                       array=[(p.run.metrics.get(x_high) or p.x / p.scale) * p.scale - p.x for p in group],
                       arrayminus=[p.x - (p.run.metrics.get(x_low) or p.x / p.scale) * p.scale
                                   for p in group]) if x_low else None
        figure.add_trace(go.Scatter(
            x=[p.x for p in group], y=[p.y for p in group], mode="markers", name=combo,
            legendgroup=combo, showlegend=allowed, error_y=error_y, error_x=error_x,
            marker=dict(size=11, color=palette[i % len(palette)] if allowed else "#c0c0c0",
                        symbol=[model_symbol[p.run.model] + ("" if p.comparable else "-open") for p in group],
                        line=dict(width=[3 if p.run.noisy else 1 for p in group],
                                  color=[NOISY_OUTLINE if p.run.noisy else "#1f2937" for p in group])),
            customdata=[[p.run.id, p.run.model, f"{p.run.recipe_summary} · {p.run.scenario}", p.run.runtime.get("batch"),
                         p.run.runtime.get("threads") or "all", p.run.metrics.get("agreement"),
                         p.run.metrics.get("size_mb"), p.reason or ("on the front" if p.on_front else ""),
                         ("" if p.comparable else "not comparable (other environment)")
                         + (" · noisy: timed on a busy machine" if p.run.noisy else ""),
                         views.metric_text(p.run, x)] for p in group],
            hovertemplate=("run %{customdata[0]} · %{customdata[1]}<br>%{customdata[2]}<br>batch %{customdata[3]}, "
                           "threads %{customdata[4]}<br>" + CATALOGUE[x].label + " %{customdata[9]}<br>" + CATALOGUE[y].label
                           + " %{y:.2f}<br>agreement %{customdata[5]:.2f}%<br>size %{customdata[6]:.3f} MB"
                           "<br>%{customdata[7]} %{customdata[8]}<extra></extra>")))
if any(p.run.noisy for p in points):  # a legend entry for the outline
    figure.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name="noisy (busy machine)",
                                marker=dict(size=11, color="rgba(0,0,0,0)", line=dict(width=3, color=NOISY_OUTLINE))))
line = views.front_line(points, x)
if line:
    figure.add_trace(go.Scatter(x=[p[0] for p in line], y=[p[1] for p in line], mode="lines", name="front",
                                line=dict(shape="hv", color="#111827", width=2, dash="dot"), hoverinfo="skip"))
x_title = CATALOGUE[x].label.replace("(ms)", "per image (ms)") if per_image else CATALOGUE[x].label + " per call"
figure.update_layout(xaxis_title=x_title, yaxis_title=CATALOGUE[y].label, height=520,
                     legend_title_text=f"{colour_by} (symbol = model)", margin=dict(t=30))
if log_x:
    figure.update_xaxes(type="log")
st.plotly_chart(figure, key="front_chart")
front = [p.run.id for p in points if p.on_front]
st.caption(f"{len(points)} runs plotted, {len(front)} on the front ({', '.join(map(str, front))}); error bars: "
           "95% intervals of the accuracy" + (" and of the latency percentile" if CATALOGUE[x].interval else "")
           + ". Grey points break a constraint and are left out of the front.")
noisy = views.noisy_summary([p.run for p in points])
if noisy:
    st.warning(noisy + " They are outlined in amber.")
if len({p.run.scenario for p in points}) > 1:
    st.warning("These runs were timed under different scenarios, so their latencies mean different things (a "
               "server's includes queueing). Filter to one scenario for an honest front, or colour by scenario.")
if any(not p.comparable for p in points):
    st.warning("Some runs were measured in a different environment (CPU, cores, device or library versions): "
               "they are drawn hollow and are not comparable with the others.")

# -- table, selection, tags, delete, CSV ------------------------------------------------------------
front_ids = set(front)
table = pd.DataFrame([{
    "id": r.id, "status": r.status, "model": r.model, "dataset": r.dataset, "subset": r.subset_size,
    "techniques": r.recipe_summary, "batch": r.runtime.get("batch"), "threads": str(r.runtime.get("threads") or "all"),
    "scenario": r.scenario, **{CATALOGUE[m].column: r.metrics.get(m) for m in SUMMARY_METRICS},
    "front": r.id in front_ids, "noisy": r.noisy, "tags": ", ".join(r.tags), "error": r.error or "",
} for r in reversed(shown)])
event = st.dataframe(table, hide_index=True, key="runs_table", on_select="rerun", selection_mode="multi-row",
                     column_config={CATALOGUE[m].column: st.column_config.NumberColumn(format="%" + CATALOGUE[m].fmt)
                                    for m in SUMMARY_METRICS})
picked_rows = event.selection.rows if event is not None and hasattr(event, "selection") else []
from_table = [int(table.iloc[i]["id"]) for i in picked_rows if i < len(table)]  # filters may shrink the table
selected = st.multiselect("Selected runs (select rows above, or pick here)", table["id"].tolist(),
                          default=from_table, key=f"selected_{'_'.join(map(str, from_table))}")
st.session_state["selected_runs"] = selected

b1, b2, b3, b4 = st.columns(4)
if b1.button("Compare selected", disabled=len(selected) < 2, key="go_compare"):
    st.switch_page("pages/compare.py")
if b2.button("Export selected", disabled=len(selected) != 1, key="go_export"):
    st.session_state["export_run"] = selected[0]
    st.switch_page("pages/export.py")
new_tags = b3.text_input("Tags for the selected runs", key="tags_text", placeholder="baseline, shipped",
                         label_visibility="collapsed")
if b3.button("Set tags", disabled=not selected, key="set_tags"):
    for run_id in selected:
        api.tag(run_id, new_tags.split(","))
    st.rerun()
if b4.button("Delete selected", disabled=not selected, key="delete"):
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
