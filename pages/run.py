"""Run: pick models, data, techniques and runtime settings (any of them as a grid), queue, watch."""
import pandas as pd
import streamlit as st

from core import views
from core.api import GridRequest
from core.errors import InferScopeError
from core.tasks import DEFAULT_TASK
from pages.common import get_api, upload_time
from pages.forms import option_values, setting_inputs, single_choice, whole_numbers
from pages.targets_view import show_targets

st.title("Run")
api = get_api()

# -- task, then the model ------------------------------------------------------------------------
tasks = {t["name"]: t for t in api.tasks()}
task = single_choice("Task", list(tasks), DEFAULT_TASK, "task", format_func=lambda n: tasks[n]["words"])
st.subheader("Model")
catalogue = pd.DataFrame(api.models())
sources = api.model_sources(task)
default_source = catalogue[catalogue["name"] == tasks[task]["default_model"]]["source"].iloc[0]
source = single_choice("Source", list(sources), default_source, f"source_{task}",
                       help=" · ".join(f"{k}: {v}" for k, v in sources.items()))
if source == "onnx":
    upload = st.file_uploader("Upload an ONNX image classifier", type=["onnx"], max_upload_size=200,
                              help="one float (N, C, H, W) input with fixed C, H, W; an (N, classes) output")
    if upload is not None and st.session_state.get("uploaded_name") != upload.file_id:
        try:
            saved = api.save_upload(upload.name, upload.getvalue())
            st.session_state["uploaded_name"] = upload.file_id
            # the model just uploaded is the one the user means to run: select it (the grid is never left empty)
            st.session_state["onnx_models"] = [*st.session_state.get("onnx_models", []), str(saved)]
            st.success(f"{upload.name} is a valid classifier, selected below")
        except InferScopeError as exc:
            st.error(f"{upload.name} cannot be used: {exc}")
    uploads = api.uploads()
    labels = {u["path"]: f"{u['name']} · uploaded {upload_time(u['uploaded_at'])}" for u in uploads}
    models = st.multiselect("Uploaded models (newest first)", list(labels), format_func=labels.get,
                            key="onnx_models")
    with st.expander("Normalization", expanded=False):
        model_options = option_values("model_onnx", api.model_option_fields("onnx"))
else:
    names = catalogue[catalogue["source"] == source]["name"].tolist() if source else []
    default = [tasks[task]["default_model"]] if tasks[task]["default_model"] in names else names[:1]
    models = st.multiselect("Models", names, default=default, key=f"models_{source}")
    if models:
        details = catalogue[catalogue["name"].isin(models)][
            ["name", "params", "gflops", "input", "weights_offline", "weights", "reference_top1",
             "reference_perplexity"]]
        # models trained here on first use have no reference figure yet; a classifier no perplexity, an LM no top-1
        details = details.drop(columns=[c for c in ("reference_top1", "reference_perplexity")
                                        if details[c].isna().all()])
        st.dataframe(details, hide_index=True, width="stretch",
                     column_config={"gflops": st.column_config.NumberColumn("GFLOPs", format="%.3f"),
                                    "reference_top1": st.column_config.NumberColumn(
                                        "reference top-1 %", help="published with downloaded weights (ImageNet); "
                                        "measured on the held-out split for a model fine-tuned here"),
                                    "reference_perplexity": st.column_config.NumberColumn(
                                        "held-out perplexity", help="of a language model trained here, on the "
                                        "articles it never saw"),
                                    "weights_offline": st.column_config.CheckboxColumn("weights here")})
    with st.expander("Model options", expanded=False):
        model_options = option_values(f"model_{source}", api.model_option_fields(source))

# -- data ----------------------------------------------------------------------------------------
st.subheader("Data")
datasets = {d["name"]: d for d in api.datasets(task)}
left, mid, right = st.columns([2, 1, 1])
dataset = left.selectbox("Dataset", list(datasets), key=f"dataset_{task}",
                         format_func=lambda n: f"{n} — {datasets[n]['description']}")
if datasets[dataset]["accepts_location"]:
    location = left.text_input("Location", key="dataset_location", help=datasets[dataset]["location_help"])
    dataset_spec = f"{dataset}:{location}" if location.strip() else dataset
else:
    dataset_spec = dataset
# No min_value on these: the browser would only outline a 0 in red and keep the last valid value (and its
# message); the planner refuses it in words instead.
# Each task keeps its own subset size: BBC News holds 419 evaluation articles, Fashion-MNIST 10,000 test images.
subset = mid.number_input("Subset size", value=tasks[task]["default_subset"], step=100, key=f"subset_{task}",
                          help=tasks[task]["subset_help"])
seed = right.number_input("Seed", value=0, step=1, key="seed", help="the subset's sampling seed (at least 0)")

# -- techniques ----------------------------------------------------------------------------------
st.subheader("Techniques")
techniques = {t["name"]: t for t in api.techniques(task)}
chosen = st.multiselect("Steps (applied in this order)", list(techniques), key=f"techniques_{task}", select_all=False,
                        format_func=lambda n: f"{n} — {techniques[n]['summary']}",
                        help="no steps = the eager FP32 baseline")
steps = []
for name in [n for n in techniques if n in chosen]:  # canonical order, whatever the click order
    with st.expander(f"{name} options", expanded=False):
        steps.append((name, option_values(name, techniques[name]["options"])))

# -- runtime -------------------------------------------------------------------------------------
st.subheader("Runtime")
choices = api.execution_choices()
left, mid, right = st.columns(3)
threads_text = left.text_input("Threads", value="", key="threads", placeholder="all cores",
                               help="intra-op threads; several values separated by commas")
batch_text = mid.text_input("Batch size", value="1", key="batch", help="several values separated by commas")
devices = right.multiselect("Device", [c["device"] for c in choices if c["available"]], default=["cpu"],
                            key="device")
providers = api.provider_choices()
provider = right.selectbox("ONNX Runtime provider", [None] + [p["provider"] for p in providers if p["available"]],
                           format_func=lambda p: p or "the device's default", key="provider")
unavailable = [f"device {c['device']}: {c['reason']}" for c in choices if not c["available"]]
missing = [p["provider"].replace("ExecutionProvider", "") for p in providers if not p["available"]]
if missing:
    unavailable.append(f"providers {', '.join(missing)}: not in this onnxruntime build (onnxruntime-gpu, "
                       "onnxruntime-openvino and others bring them)")
if unavailable:
    right.caption("Not available here — " + "; ".join(unavailable))
with st.expander("Timing protocol"):
    timing = setting_inputs("timing", api.settings_fields("timing"), columns=4)

# -- where: this machine or registered targets (a grid axis) -----------------------------------------
st.subheader("Where")
registered = show_targets(api)
picked_targets = st.multiselect("Targets (each one is a grid axis: this recipe on these machines)",
                                [None, *(t.name for t in registered)], default=[None], format_func=views.target_words,
                                key="targets", disabled=not registered,
                                help="each run is measured by a worker of its target; its speed-up is taken against "
                                     "an FP32 baseline measured on that same target")

# -- scenario ------------------------------------------------------------------------------------
st.subheader("Scenario")
scenarios = {s["name"]: s for s in api.scenarios(task)}
scenario = st.selectbox("How load is applied while timing", list(scenarios), key=f"scenario_{task}",
                        format_func=lambda n: f"{n} — {scenarios[n]['summary']}")
st.caption(f"Use it for {scenarios[scenario]['use_when']}.")
scenario_options = {}
if scenarios[scenario]["options"]:
    with st.expander(f"{scenario} options", expanded=scenarios[scenario]["queueing"]):
        scenario_options = option_values(f"scenario_{scenario}", scenarios[scenario]["options"])


# -- grid: validate before anything is queued -----------------------------------------------------
plan, problem = None, "; ".join(timing.problems) or None
try:
    grid = GridRequest(models=tuple(models), model_options=model_options, dataset=dataset_spec, subset=int(subset),
                       seed=int(seed),
                       techniques=tuple(steps), threads=whole_numbers(threads_text, "Threads"),
                       batch=whole_numbers(batch_text, "Batch size") if batch_text.strip() else (1,),
                       device=tuple(devices) or ("cpu",), timing=timing, provider=provider,
                       scenario=(scenario, scenario_options), targets=tuple(picked_targets) or (None,))
    plan = None if problem else api.plan_grid(grid)
except InferScopeError as exc:
    problem = str(exc)

if problem:
    st.error(problem)
else:
    st.info(f"This grid expands to **{len(plan.runs)} run(s)**"
            + (f", including {plan.added_baselines} FP32 baseline(s) added because none exists yet."
               if plan.added_baselines else "."))
    for caution in plan.cautions:
        st.warning(f"{caution}.", icon=":material/warning:")
if st.button("Queue runs", type="primary", disabled=bool(problem), key="submit"):
    try:
        ids = api.submit_grid(grid)
        st.success(f"Queued run{'s' if len(ids) > 1 else ''} {', '.join(f'#{i}' for i in ids)}. Runs go one at a "
                   "time in a worker process" + (" of each target." if any(picked_targets) else "."))
    except InferScopeError as exc:
        st.error(str(exc))


# -- the queue, live -------------------------------------------------------------------------------
# Polling reads only the active rows and the last few finished ones (indexed), once a second while
# something runs and every POLL_IDLE_S seconds otherwise: the dashboard must not be the noise
# beside a timing loop.
POLL_ACTIVE_S, POLL_IDLE_S = 1.0, 10.0


def live_queue() -> None:
    st.subheader("Queue")
    queue = api.queue()
    if bool(queue) != st.session_state.get("queue_active", False):
        st.rerun()  # the queue started or emptied since the page ran: run it again for the other poll interval
    if not queue:
        st.caption("Nothing queued or running.")
    finished = api.latest_finished(5)
    # grid runs differ only in a few fields: show those, against the grid's finished runs too, so the last one left
    # in the queue keeps its "threads 2"
    labels = views.run_labels([*finished, *queue])
    for run in queue:
        cols = st.columns([5, 3, 1])
        cols[0].markdown(f"**#{run.id}** · {labels[run.id]}")
        fraction = min(1.0, run.progress or 0.0)
        label = f"{run.status}" + (f" · {run.stage} · {fraction:.0%}" if run.status == "running" and run.stage else "")
        cols[1].progress(fraction, text=label)
        if cols[2].button("Cancel", key=f"cancel_{run.id}"):
            api.cancel(run.id)
            st.rerun(scope="fragment")
    if finished:
        st.caption("Latest finished, newest first: " + " · ".join(
            f"#{r.id} {labels[r.id]}: {r.status}" + (f" ({r.error})" if r.error and r.status != "done" else "")
            for r in reversed(finished)))


st.session_state["queue_active"] = bool(api.queue())  # the fragment's own reruns compare against this
st.fragment(live_queue, run_every=POLL_ACTIVE_S if st.session_state["queue_active"] else POLL_IDLE_S)()
