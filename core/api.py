"""The small surface the UI and the CLI use: list, validate, submit, execute, read, front, export."""
from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import jobs, model_files, views
from core.curve import CurveConfig, execute_curve
from core.datasets import DATASETS, parse_dataset
from core.diagnose import (
    ANALYSES,
    ProfileConfig,
    SensitivityConfig,
    execute_diagnosis,
    int8_step,
)
from core.engine import execute
from core.errors import ConfigError, InferScopeError, ModelError, RecipeError
from core.explore import ExploreSettings, Trial
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
from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, OBJECTIVES
from core.models import MODELS, SOURCES, describe_models, parse_model
from core.models.onnx_file import validate as validate_onnx
from core.options import describe, parse_options, to_dict
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
from core.recipe import RuntimeSettings, TimingConfig
from core.remeasure import RemeasureConfig, execute_comparison
from core.scenarios import SCENARIOS
from core.settings import Settings, ensure_home, load_settings
from core.store import (
    ACTIVE_STATUSES,
    FINAL_STATUSES,
    ComparisonRecord,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    RunRecord,
    RunStore,
    TargetRecord,
)
from core.targets import WorkerSettings
from core.techniques import TECHNIQUES

# The settings forms and flag groups: each page form and CLI flag is generated from these (option() fields).
SETTINGS: dict[str, type] = {"runtime": RuntimeSettings, "timing": TimingConfig, "explore": ExploreSettings,
                             "curve": CurveConfig, "remeasure": RemeasureConfig, "diagnose": SensitivityConfig,
                             "profile": ProfileConfig}
PROFILED_ENGINES = ("onnxruntime", "openvino", "torch-eager")  # the runtimes whose own profiler a profile reads
MAX_UPLOAD_BYTES = 200 * 1024 ** 2
# How pickles (protocol 2+) and torch.save zip archives begin; an ONNX protobuf never starts so.
PICKLE_MAGIC = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK")


class InferScope:
    """Entry point for front ends. Opens (and if needed creates or upgrades) the store."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or load_settings()
        ensure_home(self.settings)
        self.store = RunStore(self.settings.db_url, self.settings.store_retry_s)
        self.store.mark_dead_runs_interrupted()
        self.planner = Planner(self.settings, self.store)

    # -- catalogue ----------------------------------------------------------------------------
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
    def settings_fields(form: str) -> list[dict[str, Any]]:
        """The fields of one settings form ("runtime", "timing", "explore", "curve") with help and bounds."""
        if form not in SETTINGS:
            raise ConfigError(f"no settings form {form!r}; valid: {', '.join(SETTINGS)}")
        return describe(SETTINGS[form])

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
        return self.planner.plan(request)

    def submit(self, request: RunRequest) -> int:
        """Validate and store a queued run; returns its id."""
        return self._queue_run(self.plan(request).fields)

    def _queue_run(self, fields: dict[str, Any]) -> int:
        """Store a planned run; an ONNX file's bytes go into the store first, so any worker can fetch them."""
        if fields.get("model_sha256"):
            model_files.keep_in_store(self.store, Path(fields["model"]), fields["model_sha256"],
                                      Path(fields["model"]).name)
        return self.store.create_run(**fields)

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
        ids = [self._queue_run(plan.fields) for plan in plans]
        if any(plan.fields["target"] is None for plan in plans):
            jobs.ensure_worker(self.settings)  # a target's runs wait for that target's workers
        return ids

    def queue(self) -> list[RunRecord]:
        """Queued and running runs, oldest first; runs whose worker died are marked interrupted first.

        Reads only the active rows (the status index), so a page may poll it every second."""
        self.store.mark_dead_runs_interrupted()
        return self.store.list_runs(statuses=ACTIVE_STATUSES)

    def latest_finished(self, count: int = 5) -> list[RunRecord]:
        """The newest `count` runs that ended (done, failed, cancelled or interrupted), oldest first."""
        return self.store.list_runs(statuses=FINAL_STATUSES, latest=count)

    def resume_queue(self) -> bool:
        """After a restart: start a worker when any job waits (a run, an exploration, a curve, a paired
        re-measurement or a diagnosis) and none is alive."""
        waiting = (self.store.list_runs("queued"), self.store.explorations(), self.store.curves(status="queued"),
                   self.store.comparisons(), self.store.diagnoses())
        if any(job.status == "queued" for jobs_of_a_kind in waiting for job in jobs_of_a_kind):
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
        checking = folder / f"{uuid.uuid4().hex}.part"
        checking.write_bytes(data)
        try:
            _, summary = validate_onnx(checking)
            smoke_test(data, summary, checking)
        except InferScopeError as exc:
            checking.unlink(missing_ok=True)
            raise type(exc)(str(exc).replace(str(checking), Path(filename).name)) from None
        sha256 = hashlib.sha256(data).hexdigest()
        path = model_files.cache_path(self.settings, sha256)  # named by content: the same bytes are kept once
        checking.replace(path)
        self.store.put_upload(sha256, Path(filename).name, data)  # so a worker on another machine can fetch it
        uploaded_at = datetime.now(UTC).isoformat(timespec="microseconds")
        (folder / f"{path.stem}.json").write_text(json.dumps({"original_name": Path(filename).name,
                                                              "uploaded_at": uploaded_at}))
        return path

    def uploads(self) -> list[dict[str, str]]:
        """Uploaded models, newest first: generated path, the name the user gave and the upload time (UTC, ISO).

        Uploads kept before the time was recorded take their file's modification time.
        """
        folder = self.settings.home / "uploads"
        out, here = [], {meta.stem for meta in folder.glob("*.json")} if folder.is_dir() else set()
        for upload in self.store.uploads():  # a teammate's upload: fetched once to this machine
            if upload.sha256 not in here:
                model_files.local_copy(self.store, self.settings, upload.sha256)
                uploaded_at = upload.uploaded_at.isoformat(timespec="microseconds")
                (folder / f"{upload.sha256}.json").write_text(json.dumps({"original_name": upload.name,
                                                                          "uploaded_at": uploaded_at}))
        for meta in folder.glob("*.json") if folder.is_dir() else []:
            model = meta.with_suffix(".onnx")
            if model.is_file():
                record = json.loads(meta.read_text())
                uploaded_at = record.get("uploaded_at") or datetime.fromtimestamp(
                    model.stat().st_mtime, UTC).isoformat(timespec="microseconds")
                out.append({"path": str(model), "name": record["original_name"], "uploaded_at": uploaded_at})
        return sorted(out, key=lambda u: (u["uploaded_at"], u["path"]), reverse=True)

    def recommend(self, max_drop: float = 1.0, model: str | None = None, *, include_noisy: bool = False) -> Pick | None:
        """The fastest done run within `max_drop` points of its FP32 baseline, with the reason: the same
        rule and wording as an exploration's "fastest within the constraints" (`explore.analysis`).
        Runs timed on a busy machine are left out unless `include_noisy`."""
        runs = [r for r in self.runs("done") if model is None or r.model == model]
        constraints = Constraints(max_drop=max_drop, accuracy=accuracy_metric(runs))
        pick = recommend(runs, constraints, include_noisy=include_noisy).fastest
        return quote_paired(pick, runs, self.store.comparisons(pick.run.id) if pick else [])

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
        if request.target is None:
            jobs.ensure_worker(self.settings)
        return exploration_id

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
        self.store.mark_dead_runs_interrupted()
        self.store.start_exploration(exploration_id)
        return self.run_exploration(exploration_id, progress, on_trial)

    def run_exploration(self, exploration_id: int, progress: Progress = no_progress,
                        on_trial: Callable[[Trial], None] = lambda trial: None) -> ExplorationRecord:
        """Work on an exploration this process has claimed (the worker's entry point)."""
        return jobs.run_exploration(self.store, exploration_id, self.settings, progress, on_trial)

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
        return report(self.exploration(exploration_id), self.exploration_runs(exploration_id),
                      self.store.comparisons())

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

    # -- paired re-measurement -------------------------------------------------------------------------
    def plan_comparison(self, run_ids: Sequence[int], reference_id: int | None = None,
                        values: dict[str, Any] | None = None) -> tuple[list[int], int, dict[str, Any]]:
        """Check a re-measurement: two or more distinct done runs, the reference among them (default: the
        oldest FP32 baseline among them, else the first given); returns (runs, reference, config to store)."""
        ids = list(dict.fromkeys(int(i) for i in run_ids))
        if len(ids) < 2:
            raise ConfigError("a paired re-measurement needs at least two different runs")
        runs = [self.run(i) for i in ids]
        if reference_id is None:
            reference_id = min((r.id for r in runs if views.is_baseline(r)), default=ids[0])
        if reference_id not in ids:
            raise ConfigError(f"the reference run {reference_id} is not among the runs {', '.join(map(str, ids))}")
        return ids, reference_id, to_dict(parse_options(RemeasureConfig, values, what="remeasure"))

    def request_comparison(self, run_ids: Sequence[int], reference_id: int | None = None,
                           values: dict[str, Any] | None = None) -> int:
        """Queue a paired re-measurement for the worker; returns its id."""
        comparison_id = self.store.create_comparison(*self.plan_comparison(run_ids, reference_id, values))
        jobs.ensure_worker(self.settings)
        return comparison_id

    def remeasure(self, run_ids: Sequence[int], reference_id: int | None = None, values: dict[str, Any] | None = None,
                  progress: Progress = no_progress) -> ComparisonRecord:
        """Re-measure here, in this process (the CLI's `remeasure`)."""
        comparison_id = self.store.create_comparison(*self.plan_comparison(run_ids, reference_id, values))
        self.store.start_comparison(comparison_id)
        return execute_comparison(self.store, comparison_id, self.settings, progress)

    def comparisons(self, run_id: int | None = None) -> list[ComparisonRecord]:
        return self.store.comparisons(run_id)

    def cancel_comparison(self, comparison_id: int) -> str:
        return self.store.request_comparison_cancel(comparison_id)

    # -- diagnosis: where an INT8 run's accuracy went -------------------------------------------------
    def plan_diagnosis(self, run_id: int, values: dict[str, Any] | None = None,
                       kind: str = "sensitivity") -> dict[str, Any]:
        """Check a diagnosis before it is stored; the config to store. A sensitivity needs a done run with an
        ort_static_int8 step; a profile, a done run of an engine in PROFILED_ENGINES."""
        if kind not in ANALYSES:
            raise ConfigError(f"no diagnosis {kind!r}; valid: {', '.join(ANALYSES)}")
        config = to_dict(parse_options(ANALYSES[kind].config_cls, values, what=kind))
        run = self.run(run_id)
        if kind == "sensitivity":
            int8_step(run)
        elif run.status != "done":
            raise RecipeError(f"run {run_id} is {run.status}; profile a done run")
        elif run.engine not in PROFILED_ENGINES:
            raise RecipeError(f"run {run_id} ran on {run.engine}; profiles are taken of "
                              f"{', '.join(PROFILED_ENGINES[:-1])} and {PROFILED_ENGINES[-1]} runs")
        return config

    def request_diagnosis(self, run_id: int, values: dict[str, Any] | None = None, kind: str = "sensitivity") -> int:
        """Queue a diagnosis (sensitivity or profile) for the worker; returns its id."""
        diagnosis_id = self.store.create_diagnosis(run_id, self.plan_diagnosis(run_id, values, kind), kind)
        jobs.ensure_worker(self.settings)
        return diagnosis_id

    def diagnose(self, run_id: int, values: dict[str, Any] | None = None, progress: Progress = no_progress,
                 kind: str = "sensitivity") -> DiagnosisRecord:
        """Diagnose here, in this process (the CLI's `diagnose` and `profile`)."""
        diagnosis_id = self.store.create_diagnosis(run_id, self.plan_diagnosis(run_id, values, kind), kind)
        self.store.start_diagnosis(diagnosis_id)
        return execute_diagnosis(self.store, diagnosis_id, self.settings, progress)

    def diagnoses(self, run_id: int | None = None, kind: str | None = None) -> list[DiagnosisRecord]:
        return self.store.diagnoses(run_id, kind)

    def flips(self, run_id: int, reference_id: int, thumbnails: int = 24) -> dict[str, Any]:
        """Where `run_id`'s top-1 differs from `reference_id`'s on their common subset: the flips, the change
        of the confusion matrix, class names and the first `thumbnails` flipped images (uint8)."""
        import numpy as np

        from core.datasets.subset import evaluation_subset
        from core.planning import SIZE_PROBE_SPEC

        run, reference = self.run(run_id), self.run(reference_id)
        if views.comparison_key(run) != views.comparison_key(reference):
            raise InferScopeError(f"runs {run_id} and {reference_id} were scored on different images; flips compare "
                                  "runs of the same model on the same subset")
        ours, theirs = self.store.predictions(run_id), self.store.predictions(reference_id)
        if ours is None or theirs is None:
            missing = run_id if ours is None else reference_id
            raise InferScopeError(f"run {missing} has no stored predictions (it ran before InferScope kept them); "
                                  "run it again to see its flips")
        entry, location = parse_dataset(run.dataset_spec)
        dataset = entry.load(location, self.settings, SIZE_PROBE_SPEC)
        subset = evaluation_subset(dataset, run.subset_size, run.subset_seed)
        found = views.flips(theirs, ours, subset.labels, len(dataset.class_names))
        picked = np.asarray(subset.indices)[found.indices[:thumbnails]]
        return {"flips": found, "classes": list(dataset.class_names),
                "images": subset.split.images(picked) if len(picked) else []}

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
        steps = []
        for step in run.recipe:
            config = dict(step["config"])
            if step["technique"] == "ort_static_int8":
                config["keep_float"] = list(dict.fromkeys([*(config.get("keep_float") or []), *nodes]))
            steps.append(StepSpec(step["technique"], config))
        new_id = self.store.create_run(**self.plan(_same_configuration(run, tuple(steps))).fields,
                                       parent_run_id=run.id)
        jobs.ensure_worker(self.settings)
        return new_id

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
        steps = tuple(StepSpec(s["technique"], s["config"]) for s in plan.alternative)
        new_id = self.submit(_same_configuration(run, steps))
        jobs.ensure_worker(self.settings)
        return new_id


def _same_configuration(run: RunRecord, steps: tuple[StepSpec, ...]) -> RunRequest:
    """A request for `run`'s model, data, runtime and scenario with other recipe steps."""
    return RunRequest(model=run.model, model_options=run.model_options, dataset=run.dataset_spec,
                      subset=run.subset_size, seed=run.subset_seed, techniques=steps,
                      threads=run.runtime.get("threads"), batch=run.runtime.get("batch", 1),
                      device=run.runtime.get("device", "cpu"), provider=run.runtime.get("provider"),
                      timing=run.runtime.get("timing") or {}, scenario=run.scenario,
                      scenario_options=run.scenario_config)


def flat_run(run: RunRecord) -> dict[str, Any]:
    """One flat row per run (JSON fields as text), for CSV."""
    data = run.to_json()
    metrics = data.pop("metrics")
    for key in ("recipe", "runtime", "model_options", "tags"):
        data[key] = json.dumps(data[key])
    data["notes"] = " | ".join(data["notes"])
    return {**data, **metrics}
