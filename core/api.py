"""The small surface the UI and the CLI use: list, validate, submit, execute, read, front, export."""
from __future__ import annotations

import csv
import io
import itertools
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Sequence

from core import jobs, views
from core.curve import CurveConfig, execute_curve
from core.datasets import DATASETS, parse_dataset
from core.datasets.subset import (
    calibration_split_name,
    calibration_subset,
    evaluation_subset,
)
from core.engine import check_compatible, execute, model_spec
from core.errors import ConfigError, DataError, InferScopeError, ModelError, RecipeError
from core.explore import (
    Configuration,
    SearchSpace,
    Trial,
    default_space,
    execute_exploration,
    parse_settings,
    runnable,
)
from core.explore.report import ExplorationReport, report
from core.explore.search import choose_strategy
from core.explore.space import Validity
from core.export import ExportResult, export_run
from core.export_plan import ExportPlan, plan_export
from core.inputs import InputSpec
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, OBJECTIVES
from core.models import MODELS, SOURCES, describe_models, parse_model
from core.models.onnx_file import validate as validate_onnx
from core.options import describe, format_spec, parse_options, to_dict
from core.pareto import pareto_front
from core.progress import Progress, no_progress
from core.recipe import Recipe, RuntimeSettings, TimingConfig, parse_step, validate
from core.scenarios import DEFAULT_SCENARIO, SCENARIOS, parse_scenario
from core.settings import Settings, ensure_home, load_settings
from core.store import (
    ACTIVE_STATUSES,
    CurveRecord,
    ExplorationRecord,
    RunRecord,
    RunStore,
)
from core.techniques import TECHNIQUES

# Dataset sizes do not depend on the input shape; this stands in for the model's during validation.
_SIZE_PROBE_SPEC = InputSpec(1, 1, 1, (0.0,), (1.0,))
MAX_UPLOAD_BYTES = 200 * 1024 ** 2
# How pickles (protocol 2+) and torch.save zip archives begin; an ONNX protobuf never starts so.
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK")


@dataclass(frozen=True)
class RunRequest:
    """One run as a user asks for it (strings as typed on the CLI or picked in the UI)."""

    model: str
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    techniques: tuple[str, ...] = ()
    threads: int | None = None
    batch: int = 1
    device: str = "cpu"
    random_weights: bool = False
    timing: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    scenario: str = DEFAULT_SCENARIO  # NAME[:key=value,...]


@dataclass(frozen=True)
class PlannedRun:
    """A validated request: exactly what will be stored."""

    fields: dict[str, Any]
    recipe: Recipe


@dataclass(frozen=True)
class GridRequest:
    """Several runs at once: every list is one axis; the grid is their Cartesian product.

    `techniques` is an ordered list of (technique name, {option: [values]}); each option's values
    form another axis; so does each option of `scenario` (name, {option: [values]}).
    """

    models: tuple[str, ...]
    model_options: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    techniques: tuple[tuple[str, dict[str, tuple[Any, ...]]], ...] = ()
    threads: tuple[int | None, ...] = (None,)
    batch: tuple[int, ...] = (1,)
    device: tuple[str, ...] = ("cpu",)
    random_weights: bool = False
    timing: dict[str, Any] = field(default_factory=dict)
    provider: str | None = None
    scenario: tuple[str, dict[str, tuple[Any, ...]]] = (DEFAULT_SCENARIO, {})


def _option_specs(name: str, options: dict[str, tuple[Any, ...]]) -> list[str]:
    """NAME:k=v specs for every combination of the option values."""
    keys = list(options)
    combos = itertools.product(*(options[k] for k in keys)) if keys else [()]
    return [format_spec(name, dict(zip(keys, combo))) for combo in combos]


def expand_grid(grid: GridRequest) -> list[RunRequest]:
    """The grid as individual run requests, in a stable order."""
    technique_axes = [_option_specs(name, options) for name, options in grid.techniques]
    scenarios = _option_specs(*grid.scenario)
    keys = [k for k, values in grid.model_options.items() if values]
    option_combos = [dict(zip(keys, combo)) for combo in itertools.product(*(grid.model_options[k] for k in keys))]
    models = [_with_options(m, o) for m in grid.models for o in option_combos]
    requests = []
    for model, threads, batch, device, scenario in itertools.product(models, grid.threads, grid.batch, grid.device,
                                                                     scenarios):
        for steps in itertools.product(*technique_axes) if technique_axes else [()]:
            requests.append(RunRequest(model=model, dataset=grid.dataset, subset=grid.subset, seed=grid.seed,
                                       techniques=tuple(steps), threads=threads, batch=batch, device=device,
                                       random_weights=grid.random_weights, timing=dict(grid.timing),
                                       provider=grid.provider, scenario=scenario))
    return requests


def _with_options(model: str, options: dict[str, Any]) -> str:
    spec = format_spec(model, options)
    if spec != model and ":" in model:  # an ONNX path that already carries options
        return model + "," + spec[len(model) + 1:]
    return spec


@dataclass(frozen=True)
class GridPlan:
    """A validated grid: the FP32 baselines it still needs come first."""

    runs: list[PlannedRun]
    added_baselines: int


@dataclass(frozen=True)
class ExploreRequest:
    """An exploration as a user asks for it: what to search, on which data, within which budget.

    `options` are ExploreSettings values (budget_runs or budget_minutes, constraints, strategy);
    `space` None means the default space for the model.
    """

    model: str
    dataset: str = "fashion-mnist"
    subset: int = 1000
    seed: int = 0
    space: SearchSpace | None = None
    options: dict[str, Any] = field(default_factory=dict)
    timing: dict[str, Any] = field(default_factory=dict)
    device: str = "cpu"
    random_weights: bool = False


# Seconds per trial assumed before this model has any finished run to go by.
DEFAULT_SECONDS_PER_RUN = 20.0


@dataclass(frozen=True)
class ExplorationPlan:
    """A validated exploration: its space, what can run, and what the budget allows."""

    config: dict[str, Any]          # what is stored
    space: SearchSpace
    validity: Validity
    strategy: str                   # exhaustive, nsga2 or tpe
    budget_runs: int                # trials the budget allows (estimated for a minutes budget)
    estimate_basis: str             # where the per-trial time of a minutes budget comes from

    @property
    def expected_runs(self) -> int:
        return min(self.budget_runs, len(self.validity.runnable))


class InferScope:
    """Entry point for front ends. Opens (and if needed creates or upgrades) the store."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        ensure_home(self.settings)
        self.store = RunStore(self.settings.db_url)
        self.store.mark_dead_runs_interrupted()

    # -- catalogue ----------------------------------------------------------------------------
    def models(self) -> list[dict[str, Any]]:
        return describe_models(self.settings)

    @staticmethod
    def model_sources() -> dict[str, str]:
        return dict(SOURCES)

    @staticmethod
    def model_option_fields(source: str) -> list[dict[str, Any]]:
        """The option form of a model source (e.g. epochs and seed for local models)."""
        from core.models.onnx_file import OnnxOptions

        entries = [e for _, e in MODELS if e.source == source]
        return describe(entries[0].options_cls if entries else OnnxOptions)

    @staticmethod
    def datasets() -> list[dict[str, Any]]:
        return [{"name": name, "description": e.description, "needs_location": e.needs_location,
                 "accepts_location": e.accepts_location, "label_space": e.label_space,
                 "location_help": e.location_help} for name, e in DATASETS]

    @staticmethod
    def techniques() -> list[dict[str, Any]]:
        return [{"name": name, "summary": t.summary, "accepts": sorted(t.accepts), "produces": t.produces,
                 "position": t.position, "options": describe(t.config_cls)} for name, t in TECHNIQUES]

    @staticmethod
    def scenarios() -> list[dict[str, Any]]:
        return [{"name": name, "summary": s.summary, "use_when": s.use_when, "queueing": s.queueing,
                 "options": describe(s.config_cls)} for name, s in SCENARIOS]

    # -- runs -----------------------------------------------------------------------------------
    def plan(self, request: RunRequest) -> PlannedRun:
        """Validate everything that can be checked before work starts; raise with what to change."""
        model = parse_model(request.model, random_weights=request.random_weights)
        if model.is_onnx_file:
            _, summary = validate_onnx(Path(model.name).expanduser().resolve())
            start, label_space, classes, source = "onnx", summary.label_space, summary.num_classes, "onnx"
            if summary.batch is not None and summary.batch != request.batch:
                raise RecipeError(f"{model.name} takes a fixed batch of {summary.batch}; use --batch {summary.batch}")
            fixed_batch = summary.batch is not None
            model_name = str(Path(model.name).expanduser().resolve())
        else:
            entry = MODELS.get(model.name)
            start, label_space, classes, source, model_name = "torch", entry.label_space, None, entry.source, model.name
            fixed_batch = False
        runtime = parse_options(RuntimeSettings, {"threads": request.threads, "batch": request.batch,
                                                  "device": request.device, "provider": request.provider},
                                what="runtime")
        timing = parse_options(TimingConfig, request.timing, what="timing")
        recipe = Recipe(tuple(parse_step(spec) for spec in request.techniques), runtime, timing)
        validate(recipe, start)
        scenario, scenario_options = parse_scenario(request.scenario)
        fixed_batch = fixed_batch or any(TECHNIQUES.get(s.technique).fixes_batch(s.config) for s in recipe.steps)
        _check_scenario(scenario, scenario_options, fixed_batch)
        if runtime.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise RecipeError("device cuda is not available here (torch.cuda.is_available() is False); "
                                  "use device cpu")
        if runtime.provider and recipe.final_kind(start) == "onnx":
            import onnxruntime as ort

            if runtime.provider not in ort.get_available_providers():
                raise RecipeError(f"execution provider {runtime.provider} is not in this onnxruntime build "
                                  f"(available: {', '.join(ort.get_available_providers())})")
        entry, location = parse_dataset(request.dataset)
        dataset = entry.load(location, self.settings, _SIZE_PROBE_SPEC)
        trained = not model.options.get("random_weights")
        check_compatible(model_name, label_space, classes or len(dataset.class_names), trained, dataset)
        if request.subset < 1:
            raise DataError(f"subset size must be at least 1; got {request.subset}")
        subset = evaluation_subset(dataset, request.subset, request.seed)
        if recipe.calibration_size():
            calibration_subset(dataset, subset, recipe.calibration_size(), request.seed)
        for step in recipe.steps:
            if TECHNIQUES.get(step.technique).needs_train_split(step.config) and dataset.train is None:
                raise RecipeError(f"{step.technique} trains on a train split and {entry.name} has none; use "
                                  "fashion-mnist" + (" or set recovery=none" if hasattr(step.config, "recovery") else ""))
        fields = {"model": model_name, "model_source": source, "model_options": dict(model.options),
                  "dataset": entry.name, "dataset_location": dataset.location, "subset_size": request.subset, "subset_seed": request.seed,
                  "subset_split": dataset.evaluation.name,
                  "calibration_split": calibration_split_name(dataset) if recipe.calibration_size() else None,
                  "recipe": recipe.steps_json(), "runtime": {**to_dict(runtime), "timing": to_dict(timing)},
                  "scenario": scenario, "scenario_config": to_dict(scenario_options)}
        return PlannedRun(fields, recipe)

    def submit(self, request: RunRequest) -> int:
        """Validate and store a queued run; returns its id."""
        return self.store.create_run(**self.plan(request).fields)

    def execute(self, run_id: int, progress: Progress = no_progress) -> RunRecord:
        """Run a queued run here, in this process, to its end state."""
        return execute(self.store, run_id, self.settings, progress)

    # -- grids and the job queue ---------------------------------------------------------------
    def plan_grid(self, grid: GridRequest) -> GridPlan:
        """Validate every run of the grid plus the FP32 baselines it still needs (added first)."""
        requests = expand_grid(grid)
        if not requests:
            raise InferScopeError("the grid is empty: pick at least one model")
        planned = []
        for i, request in enumerate(requests):
            try:
                planned.append(self.plan(request))
            except InferScopeError as exc:
                where = f"run {i + 1} of {len(requests)} ({request.model}, {', '.join(request.techniques) or 'fp32'})"
                raise type(exc)(f"{where}: {exc}") from None
        baselines = self._baselines_needed(planned, requests)
        return GridPlan(baselines + planned, len(baselines))

    def _baselines_needed(self, planned: list[PlannedRun], requests: list[RunRequest]) -> list[PlannedRun]:
        have = {views.comparison_key(r) for r in self.runs() if views.is_baseline(r) and r.status in
                ("done", *ACTIVE_STATUSES)}
        have |= {views.comparison_key(p.fields) for p in planned if views.is_baseline_recipe(p.fields["recipe"])}
        extra = []
        for plan, request in zip(planned, requests):
            key = views.comparison_key(plan.fields)
            if key not in have:
                have.add(key)
                extra.append(self.plan(RunRequest(**{**request.__dict__, "techniques": ()})))
        return extra

    def submit_grid(self, grid: GridRequest) -> list[int]:
        """Queue the grid (baselines first) and make sure a worker process is running it."""
        ids = [self.store.create_run(**plan.fields) for plan in self.plan_grid(grid).runs]
        jobs.ensure_worker(self.settings)
        return ids

    def queue(self) -> list[RunRecord]:
        """Queued and running runs, oldest first; runs whose worker died are marked interrupted first."""
        self.store.mark_dead_runs_interrupted()
        return [r for r in self.runs() if r.status in ACTIVE_STATUSES]

    def resume_queue(self) -> bool:
        """After a restart: start a worker when runs or explorations wait and none is alive."""
        if any(r.status == "queued" for r in self.runs()) or \
                any(e.status == "queued" for e in self.store.explorations()):
            return jobs.ensure_worker(self.settings)
        return False

    def cancel(self, run_id: int) -> str:
        return self.store.request_cancel(run_id)

    def tag(self, run_id: int, tags: Sequence[str]) -> None:
        self.store.set_tags(run_id, list(tags))

    def delete(self, run_id: int) -> None:
        if self.run(run_id).status == "running":
            raise InferScopeError(f"run {run_id} is running; cancel it first")
        self.store.delete(run_id)

    # -- catalogue details for the Run page ------------------------------------------------------
    @staticmethod
    def execution_choices() -> list[dict[str, Any]]:
        """Devices and onnxruntime execution providers, with the reason when one is unavailable."""
        import onnxruntime as ort
        import torch

        providers = ort.get_available_providers()
        cuda = torch.cuda.is_available()
        rows = [{"device": "cpu", "engine": "torch + onnxruntime CPUExecutionProvider", "available": True,
                 "reason": ""},
                {"device": "cuda", "engine": "torch CUDA + onnxruntime CUDAExecutionProvider",
                 "available": cuda and "CUDAExecutionProvider" in providers,
                 "reason": "" if cuda and "CUDAExecutionProvider" in providers else
                 ("no CUDA device (torch.cuda.is_available() is False)" if not cuda
                  else "this onnxruntime build has no CUDAExecutionProvider (install onnxruntime-gpu)")}]
        return rows

    @staticmethod
    def provider_choices() -> list[dict[str, Any]]:
        """onnxruntime execution providers InferScope knows, with the reason when one is unavailable."""
        import onnxruntime as ort

        from core.recipe import ORT_PROVIDERS

        available = ort.get_available_providers()
        return [{"provider": name, "available": name in available,
                 "reason": "" if name in available else "not in this onnxruntime build (e.g. onnxruntime-gpu or "
                 "onnxruntime-openvino provides it)"} for name in ORT_PROVIDERS]

    def save_upload(self, filename: str, data: bytes) -> Path:
        """Keep an uploaded ONNX model under the data directory with a generated name, validated.

        The user's file name is never used as a path; nothing is kept when validation fails.
        """
        from core.models.onnx_file import smoke_test

        if len(data) > MAX_UPLOAD_BYTES:
            raise InferScopeError(f"{Path(filename).name} is {len(data) / 2**20:.0f} MB; the upload limit is "
                                  f"{MAX_UPLOAD_BYTES // 2**20} MB — pass larger models by path on the CLI")
        if data[:2] in PICKLE_MAGIC:
            raise ModelError(f"{Path(filename).name} looks like a PyTorch checkpoint or pickle; uploads are never "
                             "unpickled (that would run code from the file) — export the model to ONNX "
                             "(torch.onnx.export) and upload the .onnx file")
        folder = self.settings.home / "uploads"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{uuid.uuid4().hex}.onnx"
        path.write_bytes(data)
        try:
            _, summary = validate_onnx(path)
            smoke_test(data, summary, path)
        except InferScopeError as exc:
            path.unlink(missing_ok=True)
            raise type(exc)(str(exc).replace(str(path), Path(filename).name)) from None
        uploaded_at = datetime.now(timezone.utc).isoformat(timespec="microseconds")
        (folder / f"{path.stem}.json").write_text(json.dumps({"original_name": Path(filename).name,
                                                              "uploaded_at": uploaded_at}))
        return path

    def uploads(self) -> list[dict[str, str]]:
        """Uploaded models, newest first: generated path, the name the user gave and the upload time (UTC, ISO).

        Uploads kept before the time was recorded take their file's modification time.
        """
        folder = self.settings.home / "uploads"
        out = []
        for meta in folder.glob("*.json") if folder.is_dir() else []:
            model = meta.with_suffix(".onnx")
            if model.is_file():
                record = json.loads(meta.read_text())
                uploaded_at = record.get("uploaded_at") or datetime.fromtimestamp(
                    model.stat().st_mtime, timezone.utc).isoformat(timespec="microseconds")
                out.append({"path": str(model), "name": record["original_name"], "uploaded_at": uploaded_at})
        return sorted(out, key=lambda u: (u["uploaded_at"], u["path"]), reverse=True)

    def recommend(self, max_drop: float = 1.0, model: str | None = None) -> views.Recommendation | None:
        return views.recommend(self.runs("done"), max_drop=max_drop, model=model)

    def export_for_download(self, run_id: int, progress: Progress = no_progress) -> ExportResult:
        """Export into the data directory's exports folder (the UI then offers the file)."""
        return self.export(run_id, self.settings.home / "exports" / f"inferscope-run-{run_id}.onnx", progress)

    @staticmethod
    def runs_csv(runs: Sequence[RunRecord]) -> str:
        """All fields and metrics of `runs` as CSV text."""
        buffer = io.StringIO()
        rows = [flat_run(r) for r in runs]
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]) if rows else ["id"])
        writer.writeheader()
        writer.writerows(rows)
        return buffer.getvalue()

    def runs(self, status: str | None = None) -> list[RunRecord]:
        return self.store.list_runs(status)

    def run(self, run_id: int) -> RunRecord:
        return self.store.get(run_id)

    def samples(self, run_id: int) -> list[float]:
        return self.store.samples(run_id)

    def front(self, x: str = DEFAULT_LATENCY, y: str = DEFAULT_ACCURACY,
              runs: list[RunRecord] | None = None) -> list[RunRecord]:
        """Done runs not dominated in (x, y), using each metric's declared direction."""
        for name in (x, y):
            if name not in OBJECTIVES:
                raise ConfigError(f"unknown metric {name!r}; valid metrics: {', '.join(OBJECTIVES)}")
        done = [r for r in (runs if runs is not None else self.runs("done")) if r.status == "done"]
        return [done[i] for i in pareto_front([r.metrics for r in done], [x, y])]

    # -- explorations -------------------------------------------------------------------------------
    def plan_exploration(self, request: ExploreRequest) -> ExplorationPlan:
        """Validate the model, data, space and budget; say how many trials the budget allows."""
        options = parse_settings(request.options)
        base = self.plan(RunRequest(model=request.model, dataset=request.dataset, subset=request.subset,
                                    seed=request.seed, device=request.device, random_weights=request.random_weights,
                                    timing=dict(request.timing)))
        start = "onnx" if base.fields["model_source"] == "onnx" else "torch"
        space = request.space or default_space(start)
        validity = runnable(space, start)
        if not validity.runnable:
            reasons = "; ".join(validity.skipped)
            raise RecipeError(f"none of the space's {space.size()} configurations can run ({reasons}); "
                              "add `none` to an axis or change the technique order")
        seconds, basis = self._seconds_per_run(base.fields)
        allowed = options.budget_runs or max(1, int(options.budget_minutes * 60 // seconds))
        strategy = choose_strategy(options.strategy, len(validity.runnable), allowed)
        config = {**to_dict(options), "model": request.model, "dataset": request.dataset, "subset": request.subset,
                  "seed": request.seed, "device": request.device, "random_weights": request.random_weights,
                  "timing": dict(request.timing), "space": space.to_dict(), "start": start,
                  "expected_runs": allowed}
        return ExplorationPlan(config, space, validity, strategy, allowed, basis)

    def _seconds_per_run(self, fields: dict[str, Any]) -> tuple[float, str]:
        """Median wall time of finished runs of this model on this data, or a default guess."""
        key = views.comparison_key(fields)
        durations = sorted((r.finished_at - r.started_at).total_seconds() for r in self.runs("done")
                           if views.comparison_key(r) == key and r.started_at and r.finished_at)
        if not durations:
            return DEFAULT_SECONDS_PER_RUN, (f"no finished run of this model on this subset yet: assuming "
                                             f"{DEFAULT_SECONDS_PER_RUN:.0f} s per run")
        median = max(1.0, durations[len(durations) // 2])
        return median, f"median of {len(durations)} finished run(s) of this model on this subset: {median:.0f} s"

    def _trial_planner(self, config: dict[str, Any]) -> Callable[[Configuration], dict[str, Any]]:
        """Stored fields of a trial: the exploration's model and data with one configuration."""
        def plan(trial: Configuration) -> dict[str, Any]:
            return self.plan(RunRequest(model=config["model"], dataset=config["dataset"], subset=config["subset"],
                                        seed=config["seed"], techniques=trial.techniques, threads=trial.threads,
                                        batch=trial.batch, device=config["device"],
                                        random_weights=config["random_weights"], timing=config["timing"])).fields
        return plan

    def submit_exploration(self, request: ExploreRequest) -> int:
        """Queue an exploration for the worker; returns its id."""
        exploration_id = self.store.create_exploration(self.plan_exploration(request).config)
        jobs.ensure_worker(self.settings)
        return exploration_id

    def explore(self, request: ExploreRequest, progress: Progress = no_progress,
                on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Plan, store and run an exploration here, in this process (the CLI's `explore`)."""
        exploration_id = self.store.create_exploration(self.plan_exploration(request).config)
        return self.continue_exploration(exploration_id, progress, on_trial)

    def continue_exploration(self, exploration_id: int, progress: Progress = no_progress,
                             on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Continue a queued, cancelled or interrupted exploration here; finished trials are kept."""
        self.store.mark_dead_runs_interrupted()
        self.store.start_exploration(exploration_id)
        return self.run_exploration(exploration_id, progress, on_trial)

    def run_exploration(self, exploration_id: int, progress: Progress = no_progress,
                        on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Work on an exploration this process has claimed (the worker's entry point)."""
        config = self.store.exploration(exploration_id).config
        return execute_exploration(self.store, exploration_id, self.settings, self._trial_planner(config),
                                   progress, on_trial)

    def requeue_exploration(self, exploration_id: int) -> None:
        """Hand a stopped exploration back to the worker; it continues where it stopped."""
        self.store.requeue_exploration(exploration_id)
        jobs.ensure_worker(self.settings)

    def cancel_exploration(self, exploration_id: int) -> str:
        return self.store.request_exploration_cancel(exploration_id)

    def explorations(self) -> list[ExplorationRecord]:
        self.store.mark_dead_runs_interrupted()
        return self.store.explorations()

    def exploration(self, exploration_id: int) -> ExplorationRecord:
        return self.store.exploration(exploration_id)

    def exploration_runs(self, exploration_id: int) -> list[RunRecord]:
        return self.store.list_runs(exploration_id=exploration_id)

    def exploration_report(self, exploration_id: int) -> ExplorationReport:
        """Front, recommendations (fastest within the constraints, knee) and hypervolume over time."""
        return report(self.exploration(exploration_id), self.exploration_runs(exploration_id))

    # -- latency-throughput curves ------------------------------------------------------------------
    @staticmethod
    def plan_curve(values: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check a sweep's options (the store checks that the run is done); returns the config to store."""
        return to_dict(parse_options(CurveConfig, values, what="curve"))

    def request_curve(self, run_id: int, values: dict[str, Any] | None = None) -> int:
        """Queue a latency-throughput sweep of a done run's configuration for the worker; returns its id."""
        curve_id = self.store.create_curve(run_id, self.plan_curve(values))
        jobs.ensure_worker(self.settings)
        return curve_id

    def measure_curve(self, run_id: int, values: dict[str, Any] | None = None,
                      progress: Progress = no_progress) -> CurveRecord:
        """Sweep here, in this process (the CLI's `curve`); stores every point as it is measured."""
        curve_id = self.store.create_curve(run_id, self.plan_curve(values))
        self.store.start_curve(curve_id)
        return execute_curve(self.store, curve_id, self.settings, progress)

    def curves(self, run_id: int) -> list[CurveRecord]:
        return self.store.curves(run_id)

    def export(self, run_id: int, path: Path, progress: Progress = no_progress) -> ExportResult:
        return export_run(self.store, run_id, Path(path), self.settings, progress)

    @staticmethod
    def export_plans(runs: Sequence[RunRecord]) -> dict[int, ExportPlan]:
        """The export plan of each run, by id: decided from the stored recipes, nothing rebuilt."""
        return {run.id: plan_export(run) for run in runs}

    def export_plan(self, run_id: int) -> ExportPlan:
        """What `run_id` exports to, or why it cannot be and the nearest exportable configuration."""
        return plan_export(self.store.get(run_id))

    def queue_export_alternative(self, run_id: int) -> int:
        """Queue the nearest exportable configuration of a run that cannot be exported; returns the new run's id."""
        plan = self.export_plan(run_id)
        if plan.exportable:
            raise InferScopeError(f"run {run_id} can be exported as it is; nothing to queue")
        if plan.alternative is None:
            raise RecipeError(f"{plan.refused}, and no exportable configuration is near it")
        run = self.store.get(run_id)
        timing = run.runtime.get("timing") or {}
        request = RunRequest(model=model_spec(run), dataset=run.dataset_spec, subset=run.subset_size,
                             seed=run.subset_seed,
                             techniques=tuple(format_spec(s["technique"], s["config"]) for s in plan.alternative),
                             threads=run.runtime.get("threads"), batch=run.runtime.get("batch", 1),
                             device=run.runtime.get("device", "cpu"), provider=run.runtime.get("provider"),
                             timing=timing, scenario=format_spec(run.scenario, run.scenario_config))
        new_id = self.submit(request)
        jobs.ensure_worker(self.settings)
        return new_id


def _check_scenario(name: str, config: Any, fixed_batch: bool) -> None:
    """Refuse scenario settings the model cannot serve, saying what to change."""
    if SCENARIOS.get(name).merges_requests(config) and fixed_batch:
        raise RecipeError("server dynamic batching merges requests into larger calls, and this model takes a fixed "
                          "batch; set max_batch=1, or export with onnx_export:dynamic_batch=true")


def flat_run(run: RunRecord) -> dict[str, Any]:
    """One flat row per run (JSON fields as text), for CSV."""
    data = run.to_json()
    metrics = data.pop("metrics")
    for key in ("recipe", "runtime", "model_options", "tags"):
        data[key] = json.dumps(data[key])
    data["notes"] = " | ".join(data["notes"])
    return {**data, **metrics}
