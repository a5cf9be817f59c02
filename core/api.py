"""The small surface the UI and the CLI use: list, validate, submit, execute, read, front, export — a facade that
delegates to the room that owns each concept (catalogue, planning, the store, the job machinery, uploads, flips,
exports, explorations, diagnoses)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core import catalogue, comparable, jobs, model_files, uploads, views
from core.catalogue import SETTINGS
from core.curve import CurveConfig
from core.diagnose import ANALYSES, keep_in_float
from core.engine import execute
from core.errors import ConfigError, InferScopeError, RecipeError
from core.explore import Trial
from core.explore.analysis import (
    Constraints,
    Pick,
    accuracy_metric,
    quote_paired,
    recommend,
)
from core.explore.report import ExplorationReport, report
from core.export import ExportResult, export_run
from core.export_plan import ExportPlan, plan_export
from core.flips import run_flips
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, OBJECTIVES
from core.models import describe_models, parse_model
from core.options import parse_options, to_dict
from core.planning import (
    ExplorationPlan,
    ExploreRequest,
    GridPlan,
    GridRequest,
    PlannedRun,
    Planner,
    RunRequest,
    StepSpec,
)
from core.progress import Progress, no_progress
from core.remeasure import RemeasureConfig
from core.settings import Settings, ensure_home, load_settings
from core.store import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    ComparisonRecord,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    JobRecord,
    RunRecord,
    RunSpec,
    RunStore,
    TargetRecord,
    WorkerIdentity,
)
from core.targets import WorkerSettings

__all__ = ["InferScope", "SETTINGS", "RunRequest", "GridRequest", "ExploreRequest", "StepSpec"]


class InferScope:
    """Entry point for front ends. Opens (and if needed creates or upgrades) the store."""

    def __init__(self, settings: Settings | None = None, role: str | None = None) -> None:
        """`role`: what this process is, as a job it runs names it should the process die mid-job."""
        self.settings = settings or load_settings()
        ensure_home(self.settings)
        self.store = RunStore(self.settings.db_url, self.settings.store_retry_s, WorkerIdentity.this_process(role))
        self.planner = Planner(self.settings, self.store)

    # -- catalogue (core/catalogue.py) ----------------------------------------------------------------
    model_sources = staticmethod(catalogue.model_sources)
    tasks = staticmethod(catalogue.tasks)
    model_option_fields = staticmethod(catalogue.model_option_fields)
    settings_fields = staticmethod(catalogue.settings_fields)
    datasets = staticmethod(catalogue.datasets)
    techniques = staticmethod(catalogue.techniques)
    scenarios = staticmethod(catalogue.scenarios)
    execution_choices = staticmethod(catalogue.execution_choices)
    provider_choices = staticmethod(catalogue.provider_choices)
    runs_csv = staticmethod(views.runs_csv)

    def models(self) -> list[dict[str, Any]]:
        return describe_models(self.settings)

    def prepare_model(self, spec: str, progress: Progress = no_progress) -> str:
        """Build a model now (train and cache a local one, fetch downloadable weights), so the first run
        of it starts at once; holds the machine like a measurement, since training would disturb one.
        Returns what was built, e.g. "resnet8: ready; trained here: 3 epochs, seed 0, 91.0% top-1 …"."""
        from core.bench.machine import machine_lock
        from core.models import build_model

        request = parse_model(spec)
        with machine_lock(f"preparing {request.name}", progress):
            model = build_model(request, self.settings, progress)
        return f"{request.name}: ready" + "".join(f"; {note}" for note in model.notes)

    # -- runs -----------------------------------------------------------------------------------
    def plan(self, request: RunRequest) -> PlannedRun:
        """Validate everything that can be checked before work starts; raise with what to change."""
        return self.planner.plan(request)

    def submit(self, request: RunRequest) -> int:
        """Validate and store a queued run; returns its id."""
        return self._queue_run(self.plan(request).spec)

    def _queue_run(self, spec: RunSpec) -> int:
        """Store a planned run; an ONNX file's bytes go into the store first, so any worker can fetch them."""
        if spec.model_sha256:
            model_files.keep_in_store(self.store, Path(spec.model), spec.model_sha256, Path(spec.model).name)
        return self.store.create_run(spec)

    # -- targets: the machines work may be addressed to -------------------------------------------
    def targets(self) -> list[TargetRecord]:
        """Registered targets by name: hardware, live workers (a heartbeat within the requeue timeout), queue."""
        return self.store.targets(WorkerSettings().requeue_after_s)

    def execute(self, run_id: int, progress: Progress = no_progress) -> RunRecord:
        """Run a queued run here, in this process, to its end state."""
        return execute(self.store, run_id, self.settings, progress)

    # -- grids and the job queue ---------------------------------------------------------------
    def plan_grid(self, grid: GridRequest) -> GridPlan:
        """Validate every run of the grid plus the FP32 baselines it still needs (added first)."""
        return self.planner.plan_grid(grid)

    def submit_grid(self, grid: GridRequest) -> list[int]:
        """Queue the grid (baselines first) and make sure a worker process is running it."""
        plans = self.plan_grid(grid).runs
        ids = [self._queue_run(plan.spec) for plan in plans]
        if any(plan.spec.target is None for plan in plans):
            jobs.ensure_worker(self.settings)  # a target's runs wait for that target's workers
        return ids

    def queue(self) -> list[RunRecord]:
        """Queued and running runs, oldest first.

        Reads only the active rows (the status index) and writes nothing, so a page may poll it every second."""
        return self.store.list_runs(statuses=ACTIVE_STATUSES)

    def latest_finished(self, count: int = 5) -> list[RunRecord]:
        """The newest `count` runs that ended (done, failed, cancelled or interrupted), oldest first."""
        return self.store.list_runs(statuses=FINAL_STATUSES, latest=count)

    def resume_queue(self) -> bool:
        """After a restart: start a worker when any job waits (of any kind), or a lost worker still holds one
        (the worker puts it back in the queue), and no worker is alive."""
        if self.store.waiting() or self.store.lost_work(WorkerSettings().requeue_after_s):
            return jobs.ensure_worker(self.settings)
        return False

    def cancel(self, job_id: int, kind: str = "run") -> str:
        """Cancel a queued job of `kind` now, or ask a running one to stop at its next progress report; returns
        its status after."""
        return self.store.cancel(kind, job_id)

    def requeue(self, job_id: int, kind: str = "run") -> None:
        """Queue a cancelled, interrupted or failed job of `kind` again (an exploration continues where it stopped)
        and make sure a worker takes it."""
        self.store.requeue(kind, job_id)
        jobs.ensure_worker(self.settings)

    def tag(self, run_id: int, tags: Sequence[str]) -> None:
        self.store.set_tags(run_id, list(tags))

    def delete(self, run_id: int) -> None:
        if self.run(run_id).status == "running":
            raise InferScopeError(f"run {run_id} is running; cancel it first")
        self.store.delete(run_id)

    # -- uploaded ONNX models (core/uploads.py) ------------------------------------------------------
    def save_upload(self, filename: str, data: bytes) -> Path:
        """Keep an uploaded ONNX model (validated; never unpickled) under the data directory and in the store."""
        return uploads.save_upload(self.settings, self.store, filename, data)

    def uploads(self) -> list[dict[str, str]]:
        """Uploaded models, newest first: generated path, the name the user gave and the upload time (UTC, ISO)."""
        return uploads.list_uploads(self.settings, self.store)

    # -- jobs of every kind, queued for the worker or worked on here ------------------------------------------
    def _queued(self, job_id: int) -> int:
        jobs.ensure_worker(self.settings)
        return job_id

    def _here(self, kind: str, job_id: int, progress: Progress) -> JobRecord:
        return jobs.execute_here(self.store, kind, job_id, self.settings, progress)

    def recommendation_metric(self, model: str | None = None) -> str:
        """The quality a recommendation of `model`'s runs (None: every model's) is held to: top-1 where the data
        has labels, a language model's perplexity, else agreement with FP32 (`explore.analysis.accuracy_metric`)."""
        return accuracy_metric([r for r in self.runs("done") if model is None or r.model == model])

    def recommend(self, max_drop: float = 1.0, model: str | None = None, *, include_noisy: bool = False) -> Pick | None:
        """The fastest done run within `max_drop` of its FP32 baseline's quality (points of top-1; per cent of a
        language model's perplexity), with the reason: the same rule and wording as an exploration's "fastest within
        the constraints" (`explore.analysis`). Runs timed on a busy machine are left out unless `include_noisy`."""
        runs = [r for r in self.runs("done") if model is None or r.model == model]
        constraints = Constraints(max_drop=max_drop, accuracy=accuracy_metric(runs))
        pick = recommend(runs, constraints, include_noisy=include_noisy).fastest
        return quote_paired(pick, runs, self.store.comparisons(pick.run.id) if pick else [])

    def export_for_download(self, run_id: int, progress: Progress = no_progress) -> ExportResult:
        """Export into the data directory's exports folder (the UI then offers the file)."""
        return self.export(run_id, self.settings.home / "exports" / f"inferscope-run-{run_id}.onnx", progress)

    def runs(self, status: str | None = None) -> list[RunRecord]:
        return self.store.list_runs(status)

    def run(self, run_id: int) -> RunRecord:
        return self.store.get(run_id)

    def samples(self, run_id: int) -> list[float]:
        return self.store.samples(run_id)

    def front(self, x: str = DEFAULT_LATENCY, y: str = DEFAULT_ACCURACY,
              runs: list[RunRecord] | None = None) -> list[RunRecord]:
        """Done runs not dominated in (x, y), using each metric's declared direction: the same points the
        Results chart marks as its front (`views.plot_points`, no constraints)."""
        for name in (x, y):
            if name not in OBJECTIVES:
                raise ConfigError(f"unknown metric {name!r}; valid metrics: {', '.join(OBJECTIVES)}")
        return [p.run for p in views.plot_points(runs if runs is not None else self.runs("done"), x, y) if p.on_front]

    # -- explorations -------------------------------------------------------------------------------
    def plan_exploration(self, request: ExploreRequest) -> ExplorationPlan:
        """Validate the model, data, space and budget; say how many trials the budget allows."""
        return self.planner.plan_exploration(request)

    def submit_exploration(self, request: ExploreRequest) -> int:
        """Queue an exploration for the worker; returns its id."""
        plan = self.plan_exploration(request)
        self._keep_exploration_model(plan)
        exploration_id = self.store.create_exploration(plan.config)
        return exploration_id if request.target is not None else self._queued(exploration_id)

    def _keep_exploration_model(self, plan: ExplorationPlan) -> None:
        """An exploration of an ONNX file: its bytes go into the store, for the workers that measure its trials."""
        model = parse_model(plan.config["model"])
        if model.is_onnx_file:
            path = Path(model.name).expanduser().resolve()
            model_files.keep_in_store(self.store, path, model_files.file_sha256(path), path.name)

    def explore(self, request: ExploreRequest, progress: Progress = no_progress,
                on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Plan, store and run an exploration here, in this process (the CLI's `explore`)."""
        exploration_id = self.store.create_exploration(self.plan_exploration(request).config)
        return self.continue_exploration(exploration_id, progress, on_trial)

    def continue_exploration(self, exploration_id: int, progress: Progress = no_progress,
                             on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Continue a queued, cancelled or interrupted exploration here; finished trials are kept."""
        target = self.exploration(exploration_id).target
        if target is not None:
            raise ConfigError(f"exploration {exploration_id} runs on target {target}, whose workers share its trials; "
                              "queue it again from the Explore page (or `python -m core worker --target "
                              f"{target}` there) instead of running it on this machine")
        self.store.requeue_lost_jobs(WorkerSettings().requeue_after_s)  # its dead process's work goes back first
        self.store.resume("exploration", exploration_id)
        return self.run_exploration(exploration_id, progress, on_trial)

    def run_exploration(self, exploration_id: int, progress: Progress = no_progress,
                        on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Work on an exploration this process has claimed (the worker's entry point)."""
        return jobs.run_exploration(self.store, exploration_id, self.settings, progress, on_trial)

    def explorations(self) -> list[ExplorationRecord]:
        return self.store.explorations()

    def exploration(self, exploration_id: int) -> ExplorationRecord:
        return self.store.exploration(exploration_id)

    def exploration_runs(self, exploration_id: int) -> list[RunRecord]:
        return self.store.list_runs(exploration_id=exploration_id)

    def exploration_report(self, exploration_id: int) -> ExplorationReport:
        """Front, recommendations (fastest within the constraints, knee) and hypervolume over time."""
        return report(self.exploration(exploration_id), self.exploration_runs(exploration_id),
                      self.store.comparisons())

    # -- latency-throughput curves ------------------------------------------------------------------
    @staticmethod
    def plan_curve(values: dict[str, Any] | None = None) -> dict[str, Any]:
        """Check a sweep's options (the store checks that the run is done); returns the config to store."""
        return to_dict(parse_options(CurveConfig, values, what="curve"))

    def request_curve(self, run_id: int, values: dict[str, Any] | None = None) -> int:
        """Queue a latency-throughput sweep of a done run's configuration for the worker; returns its id."""
        self._check_analysis("curve", run_id)
        return self._queued(self.store.create_curve(run_id, self.plan_curve(values)))

    def measure_curve(self, run_id: int, values: dict[str, Any] | None = None,
                      progress: Progress = no_progress) -> CurveRecord:
        """Sweep here, in this process (the CLI's `curve`); stores every point as it is measured."""
        self._check_analysis("curve", run_id)
        return self._here("curve", self.store.create_curve(run_id, self.plan_curve(values)), progress)

    def _check_analysis(self, analysis: str, *run_ids: int) -> None:
        """Refuse an analysis of runs whose task has no form of it yet (`Task.analyses`), before anything is stored."""
        for run_id in run_ids:
            views.run_task(self.run(run_id)).check_analysis(analysis)

    def lacking(self, analysis: str, run_ids: Sequence[int]) -> list[str]:
        """The tasks, in words, of those runs whose task has no form of `analysis` yet (what a page says instead of
        offering it); empty when every run has."""
        tasks = [views.run_task(self.run(run_id)) for run_id in run_ids]
        return sorted({task.words for task in tasks if not task.offers(analysis)})

    def curves(self, run_id: int) -> list[CurveRecord]:
        return self.store.curves(run_id)

    # -- paired re-measurement -------------------------------------------------------------------------
    def plan_comparison(self, run_ids: Sequence[int], reference_id: int | None = None,
                        values: dict[str, Any] | None = None) -> tuple[list[int], int, dict[str, Any]]:
        """Check a re-measurement: two or more distinct done runs, the reference among them (default: the
        oldest FP32 baseline among them, else the first given); returns (runs, reference, config to store)."""
        ids = list(dict.fromkeys(int(i) for i in run_ids))
        if len(ids) < 2:
            raise ConfigError("a paired re-measurement needs at least two different runs")
        self._check_analysis("remeasure", *ids)
        runs = [self.run(i) for i in ids]
        tasks = sorted({views.task_of(r) for r in runs})
        if len(tasks) > 1:  # a generation's speed (per token) and a classification's (per call) share no ratio
            raise ConfigError(f"a paired re-measurement times runs of one task side by side; these runs are of "
                              f"{' and '.join(tasks)}: re-measure each task's runs apart")
        if reference_id is None:
            reference_id = min((r.id for r in runs if comparable.is_baseline(r)), default=ids[0])
        if reference_id not in ids:
            raise ConfigError(f"the reference run {reference_id} is not among the runs {', '.join(map(str, ids))}")
        return ids, reference_id, to_dict(parse_options(RemeasureConfig, values, what="remeasure"))

    def request_comparison(self, run_ids: Sequence[int], reference_id: int | None = None,
                           values: dict[str, Any] | None = None) -> int:
        """Queue a paired re-measurement for the worker; returns its id."""
        return self._queued(self.store.create_comparison(*self.plan_comparison(run_ids, reference_id, values)))

    def remeasure(self, run_ids: Sequence[int], reference_id: int | None = None, values: dict[str, Any] | None = None,
                  progress: Progress = no_progress) -> ComparisonRecord:
        """Re-measure here, in this process (the CLI's `remeasure`)."""
        comparison_id = self.store.create_comparison(*self.plan_comparison(run_ids, reference_id, values))
        return self._here("comparison", comparison_id, progress)

    def comparisons(self, run_id: int | None = None) -> list[ComparisonRecord]:
        return self.store.comparisons(run_id)

    # -- diagnosis: where an INT8 run's accuracy went -------------------------------------------------
    def plan_diagnosis(self, run_id: int, values: dict[str, Any] | None = None,
                       kind: str = "sensitivity") -> dict[str, Any]:
        """Check a diagnosis before it is stored; the config to store. A sensitivity needs a done run with a
        diagnosable quantizer step; a profile, a done run of an engine whose runtime has a profiler."""
        if kind not in ANALYSES:
            raise ConfigError(f"no diagnosis {kind!r}; valid: {', '.join(ANALYSES)}")
        config = to_dict(parse_options(ANALYSES[kind].config_cls, values, what=kind))
        self._check_analysis(kind, run_id)
        ANALYSES[kind].check(self.run(run_id))
        return config

    def diagnosable(self, run: RunRecord, kind: str) -> bool:
        """Whether a diagnosis of `kind` (sensitivity, profile) can read `run` (what the Diagnose page offers)."""
        try:
            views.run_task(run).check_analysis(kind)
            ANALYSES[kind].check(run)
        except RecipeError:
            return False
        return True

    def request_diagnosis(self, run_id: int, values: dict[str, Any] | None = None, kind: str = "sensitivity") -> int:
        """Queue a diagnosis (sensitivity or profile) for the worker; returns its id."""
        return self._queued(self.store.create_diagnosis(run_id, self.plan_diagnosis(run_id, values, kind), kind))

    def diagnose(self, run_id: int, values: dict[str, Any] | None = None, progress: Progress = no_progress,
                 kind: str = "sensitivity") -> DiagnosisRecord:
        """Diagnose here, in this process (the CLI's `diagnose` and `profile`)."""
        diagnosis_id = self.store.create_diagnosis(run_id, self.plan_diagnosis(run_id, values, kind), kind)
        return self._here("diagnosis", diagnosis_id, progress)

    def diagnoses(self, run_id: int | None = None, kind: str | None = None) -> list[DiagnosisRecord]:
        return self.store.diagnoses(run_id, kind)

    def flips(self, run_id: int, reference_id: int, thumbnails: int = 24) -> dict[str, Any]:
        """Where `run_id`'s top-1 differs from `reference_id`'s on their common subset (`core.flips`)."""
        self._check_analysis("flips", run_id, reference_id)
        return run_flips(self.store, self.settings, run_id, reference_id, thumbnails)

    def report(self, run_ids: Sequence[int]) -> str:
        """One self-contained HTML report of these runs (chart, comparison, diagnoses, environments)."""
        from core.report import report_html

        runs = [self.run(i) for i in dict.fromkeys(run_ids)]
        if not any(r.status == "done" for r in runs):
            raise InferScopeError("a report needs at least one done run; "
                                  + ", ".join(f"run {r.id} is {r.status}" for r in runs))
        return report_html(runs, self.store.diagnoses())

    def queue_keep_float(self, diagnosis_id: int, count: int) -> int:
        """Queue the diagnosed run again with its `count` most sensitive nodes kept in float (linked to it as
        its parent); returns the new run's id."""
        diagnosis = self.store.diagnosis(diagnosis_id)
        if diagnosis.status != "done":
            raise InferScopeError(f"diagnosis {diagnosis_id} is {diagnosis.status}; wait until it is done")
        nodes = diagnosis.most_sensitive(count)
        if not nodes:
            raise RecipeError(f"diagnosis {diagnosis_id} found no node whose float copy recovers accuracy; "
                              "keeping nodes in float would only cost speed")
        run = self.store.get(diagnosis.run_id)
        steps = tuple(StepSpec(s["technique"], s["config"]) for s in keep_in_float(run.recipe, nodes))
        return self._queued(self.store.create_run(self.plan(RunRequest.like(run, steps)).spec, parent_run_id=run.id))

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
        steps = tuple(StepSpec(s["technique"], s["config"]) for s in plan.alternative)
        return self._queued(self.submit(RunRequest.like(self.store.get(run_id), steps)))
