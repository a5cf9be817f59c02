"""Explore: a budgeted search for the speed/accuracy front, then a recommendation with a reason."""
import pandas as pd
import streamlit as st

from core import views
from core.api import ExploreRequest
from core.errors import InferScopeError
from core.explore import SearchSpace, default_space, space_from_text
from core.explore.settings import task_defaults
from core.models import DEFAULT_MODEL, start_kind
from core.store import ACTIVE_STATUSES
from core.tasks import DEFAULT_TASK, TASKS
from pages.common import get_api, jobs_state, refresh_on_change, upload_time
from pages.forms import setting_inputs, whole_numbers
from pages.targets_view import show_targets

st.title("Explore")
st.caption("Pick a model, the techniques to try and a budget. InferScope measures the FP32 baselines first, then "
           "every configuration when the space fits the budget, or lets optuna's multi-objective sampler choose. "
           "Every trial is an ordinary run.")
api = get_api()

# -- model and data ------------------------------------------------------------------------------
left, mid, right, far = st.columns([2, 2, 1, 1])
catalogue = api.models()
names = [m["name"] for m in catalogue if TASKS.get(m["task"]).offers("exploration")]
uploads = {u["path"]: f"{u['name']} · uploaded {upload_time(u['uploaded_at'])}" for u in api.uploads()}
model = left.selectbox("Model", [*names, *uploads], key="x_model",
                       index=names.index(DEFAULT_MODEL) if DEFAULT_MODEL in names else 0,
                       format_func=lambda m: f"{uploads[m]} (uploaded ONNX)" if m in uploads else m)
model_options = left.text_input("Model options", key="x_model_options", placeholder="e.g. epochs=1 or mean=0.5/std=0.5",
                                help="key=value pairs separated by commas, as on the CLI (the Run page lists them)")
task = next((m["task"] for m in catalogue if m["name"] == model), DEFAULT_TASK)  # an upload is an image model
datasets = {d["name"]: d for d in api.datasets(task)}  # the datasets the model's task can be scored on
dataset = mid.selectbox("Dataset", list(datasets), key=f"x_dataset_{task}")
if datasets[dataset]["accepts_location"]:
    location = mid.text_input("Location", key="x_location", help=datasets[dataset]["location_help"])
    dataset = f"{dataset}:{location}" if location.strip() else dataset
subset = right.number_input("Subset size", min_value=1, value=TASKS.get(task).default_subset, step=100,
                             key=f"x_subset_{task}")  # each task's default fits its default dataset
seed = far.number_input("Seed", min_value=0, value=0, step=1, key="x_seed")

# -- where ---------------------------------------------------------------------------------------
st.subheader("Where")
registered = show_targets(api)
target = st.selectbox("Target", [None, *(t.name for t in registered)], format_func=views.target_words, key="x_target",
                      disabled=not registered,
                      help="every live worker of the target takes trials of this exploration; no configuration is "
                           "measured twice and they share one budget")

# -- the space -----------------------------------------------------------------------------------
st.subheader("Search space")
source = next((m["source"] for m in catalogue if m["name"] == model), "")
offered = default_space("onnx" if model in uploads else start_kind(source), task)
st.caption("Each axis picks one choice per configuration, in this order; `none` skips the axis. Orders the engine "
           "cannot run (e.g. ONNX Runtime quantization without an ONNX export) are left out.")
axes = []
# one axis per row, its chips wrapping: a step spec ("structured_prune:ratio=0.25,…") is cut off in a narrow column
for axis, choices in offered.axes:
    picked = st.multiselect(axis, list(choices), default=list(choices), wrap=True, select_all=False,
                            key=f"x_axis_{axis}_{task}_{model in uploads}")  # each task has its own axes
    if picked:
        axes.append((axis, tuple(picked)))
model_axes = []
if offered.model:  # the model's own options as axes (a text model's sequence length and padding)
    choices = {f["name"]: f.get("choices") or () for f in api.model_option_fields(source)}
    columns = st.columns(len(offered.model))
    for column, (name, values) in zip(columns, offered.model):
        values_offered = list(dict.fromkeys([*choices.get(name, ()), *values]))
        picked = column.multiselect(f"model {name.replace('_', ' ')}", values_offered, default=list(values),
                                    key=f"x_model_axis_{name}", help="each value is a configuration of its own, "
                                    "with its own FP32 baseline")
        if picked:
            model_axes.append((name, tuple(picked)))
t1, t2 = st.columns(2)
threads_text = t1.text_input("Threads", value="1, all", key="x_threads",
                             help="values separated by commas; `all` = every core")
batch_text = t2.text_input("Batch sizes", value="1", key="x_batch", help="values separated by commas")
problems = []
try:
    threads = whole_numbers(threads_text, "Threads", all_word="all")
    space = SearchSpace(tuple(axes), threads, tuple(b for b in whole_numbers(batch_text, "Batch sizes") if b) or (1,),
                        tuple(model_axes))
except InferScopeError as exc:
    problems.append(str(exc))
    space = offered
if st.toggle("Edit the space as YAML (option values and ranges)", key="x_yaml_on"):
    text = st.text_area("Space (YAML)", value=space.to_yaml(), height=260, key="x_yaml",
                        help="an option may list values, e.g. {ratio: [0.2, 0.4]}, or a range, "
                             "{ratio: {from: 0.2, to: 0.6, step: 0.2}}")
    try:
        space = space_from_text(text)
    except InferScopeError as exc:
        problems.append(str(exc))

# -- budget and constraints ---------------------------------------------------------------------
st.subheader("Budget and constraints")
explore_fields = api.settings_fields("explore")
unit = st.segmented_control("Budget in", ["minutes", "runs"], default="minutes", key="x_unit")
budget = f"budget_{unit or 'minutes'}"
# A budget has no default of its own (exactly one must be given); these are starting values. A task may have
# defaults of its own (a language model's drop is per cent of its perplexity), so each task keeps its own widgets.
defaults = {"budget_minutes": 10.0, "budget_runs": 20, **task_defaults(TASKS.get(task))}
options = setting_inputs(f"x_{task}", explore_fields,
                         only=(budget, "max_drop", "max_latency_ms", "max_size_mb", "strategy"), defaults=defaults,
                         columns=5)
with st.expander("Sampler, objective and the paired check"):
    options |= setting_inputs(f"x_{task}", explore_fields, only=("sampler_seed", "latency_metric", "paired_check"),
                              defaults=defaults, columns=3)
with st.expander("Timing protocol of each trial"):
    timing = setting_inputs("x_timing", api.settings_fields("timing"), columns=4)
request = ExploreRequest(model=f"{model}:{model_options.strip()}" if model_options.strip() else model,
                         dataset=dataset, subset=int(subset), seed=int(seed), space=space,
                         options=options, timing=timing, target=target)

plan = None
problems += options.problems + timing.problems
if not problems:
    try:
        plan = api.plan_exploration(request)
    except InferScopeError as exc:
        problems.append(str(exc))
for problem in problems:
    st.error(problem)
if plan:
    skipped = sum(plan.validity.skipped.values())
    st.info(f"**{plan.space.size()}** configurations, **{len(plan.validity.runnable)}** runnable"
            + (f" ({skipped} left out)" if skipped else "") + f". The budget allows about **{plan.budget_runs}** "
            f"run(s) ({plan.estimate_basis}), so this exploration measures about **{plan.expected_runs}** "
            f"with the **{plan.strategy}** strategy.")
    if plan.advice.too_small:
        st.warning(f"This budget is too small to learn much: {plan.advice.words()}.")
    else:
        st.caption(f"Budget: {plan.advice.words()}.")
    if skipped:
        with st.expander("Why configurations were left out"):
            st.dataframe(pd.DataFrame([{"reason": k, "configurations": v} for k, v in plan.validity.skipped.items()]),
                         hide_index=True, width="stretch")
if st.button("Start exploring", type="primary", disabled=plan is None, key="x_start"):
    try:
        exploration_id = api.submit_exploration(request)
    except InferScopeError as exc:
        st.error(str(exc))
    else:
        st.session_state["x_pick"] = exploration_id  # the selector below shows it
        st.success(f"Exploration {exploration_id} is queued; "
                   + (f"the workers of {target} share its trials." if target else
                      "the worker runs it in the background."))

# -- explorations --------------------------------------------------------------------------------
records = list(reversed(api.explorations()))
refresh_on_change("x_list_state", lambda: jobs_state(api.explorations()),
                  any(r.status in ACTIVE_STATUSES for r in records))
if not records:
    st.stop()
st.subheader("Explorations")
st.dataframe(pd.DataFrame([{"id": r.id, "status": r.status, "model": r.config.get("model"),
                            "target": views.target_words(r.target), "strategy": r.strategy,
                            "trials": r.trials, "minutes": round(r.spent_s / 60, 1), "progress": r.progress,
                            "note": (r.error or (r.notes[-1] if r.notes else ""))} for r in records]),
             hide_index=True, width="stretch",
             column_config={"progress": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0)})
by_id = {r.id: r for r in records}
if st.session_state.get("x_pick") not in by_id:
    st.session_state.pop("x_pick", None)
# The status is said beside the picker, not in its options: a keyed selectbox keeps showing the label it was
# picked with when only the label changes, so "queued" would stay on screen after the exploration ended.
picked = st.selectbox("Exploration", list(by_id), key="x_pick",
                      format_func=lambda i: f"{i}: {by_id[i].config.get('model')} on {by_id[i].config.get('dataset')}")
record = by_id[picked]
st.caption(f"Exploration {record.id}: {record.status} · {record.trials} trial(s) · strategy "
           f"{record.strategy or 'not chosen yet'} · {min(1.0, record.progress or 0.0):.0%} of the budget")
a1, a2, a3 = st.columns(3)
if a1.button("Show in Results", key="x_results", type="primary"):
    st.session_state["f_exploration"] = record.id
    st.switch_page("pages/results.py")
if record.status in ACTIVE_STATUSES and a2.button("Cancel", key="x_cancel"):
    api.cancel(record.id, "exploration")
    st.rerun()
if record.status in ("cancelled", "interrupted", "failed") and a3.button("Continue", key="x_continue",
                                                                         help="finished trials are kept"):
    api.requeue(record.id, "exploration")
    st.rerun()
