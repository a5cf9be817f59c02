"""The small surface the UI and the CLI use: list, validate, submit, execute, read, front, export."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.datasets import DATASETS, parse_dataset
from core.datasets.subset import (
    calibration_split_name,
    calibration_subset,
    evaluation_subset,
)
from core.engine import check_compatible, execute
from core.errors import DataError, InferScopeError, RecipeError
from core.export import ExportResult, export_run
from core.inputs import InputSpec
from core.models import MODELS, SOURCES, describe_models, parse_model
from core.models.onnx_file import validate as validate_onnx
from core.options import describe, parse_options, to_dict
from core.pareto import METRICS, pareto_front
from core.progress import Progress, no_progress
from core.recipe import Recipe, RuntimeSettings, TimingConfig, parse_step, validate
from core.settings import Settings, ensure_home, load_settings
from core.store import RunRecord, RunStore
from core.techniques import TECHNIQUES

# Dataset sizes do not depend on the input shape; this stands in for the model's during validation.
_SIZE_PROBE_SPEC = InputSpec(1, 1, 1, (0.0,), (1.0,))


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


@dataclass(frozen=True)
class PlannedRun:
    """A validated request: exactly what will be stored."""

    fields: dict[str, Any]
    recipe: Recipe


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
    def datasets() -> list[dict[str, Any]]:
        return [{"name": name, "description": e.description, "needs_location": e.needs_location,
                 "label_space": e.label_space, "location_help": e.location_help} for name, e in DATASETS]

    @staticmethod
    def techniques() -> list[dict[str, Any]]:
        return [{"name": name, "summary": t.summary, "accepts": sorted(t.accepts), "produces": t.produces,
                 "position": t.position, "options": describe(t.config_cls)} for name, t in TECHNIQUES]

    # -- runs -----------------------------------------------------------------------------------
    def plan(self, request: RunRequest) -> PlannedRun:
        """Validate everything that can be checked before work starts; raise with what to change."""
        model = parse_model(request.model, random_weights=request.random_weights)
        if model.is_onnx_file:
            _, summary = validate_onnx(Path(model.name).expanduser().resolve())
            start, label_space, classes, source = "onnx", summary.label_space, summary.num_classes, "onnx"
            if summary.batch is not None and summary.batch != request.batch:
                raise RecipeError(f"{model.name} takes a fixed batch of {summary.batch}; use --batch {summary.batch}")
            model_name = str(Path(model.name).expanduser().resolve())
        else:
            entry = MODELS.get(model.name)
            start, label_space, classes, source, model_name = "torch", entry.label_space, None, entry.source, model.name
        runtime = parse_options(RuntimeSettings, {"threads": request.threads, "batch": request.batch,
                                                  "device": request.device}, what="runtime")
        timing = parse_options(TimingConfig, request.timing, what="timing")
        recipe = Recipe(tuple(parse_step(spec) for spec in request.techniques), runtime, timing)
        validate(recipe, start)
        if runtime.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise RecipeError("device cuda is not available here (torch.cuda.is_available() is False); "
                                  "use device cpu")
        entry, location = parse_dataset(request.dataset)
        dataset = entry.load(location, self.settings, _SIZE_PROBE_SPEC)
        trained = not model.options.get("random_weights")
        check_compatible(model_name, label_space, classes or len(dataset.class_names), trained, dataset)
        if request.subset < 1:
            raise DataError(f"subset size must be at least 1; got {request.subset}")
        subset = evaluation_subset(dataset, request.subset, request.seed)
        if recipe.calibration_size():
            calibration_subset(dataset, subset, recipe.calibration_size(), request.seed)
        fields = {"model": model_name, "model_source": source, "model_options": dict(model.options),
                  "dataset": entry.name, "dataset_location": dataset.location, "subset_size": request.subset, "subset_seed": request.seed,
                  "subset_split": dataset.evaluation.name,
                  "calibration_split": calibration_split_name(dataset) if recipe.calibration_size() else None,
                  "recipe": recipe.steps_json(), "runtime": {**to_dict(runtime), "timing": to_dict(timing)}}
        return PlannedRun(fields, recipe)

    def submit(self, request: RunRequest) -> int:
        """Validate and store a queued run; returns its id."""
        return self.store.create_run(**self.plan(request).fields)

    def execute(self, run_id: int, progress: Progress = no_progress) -> RunRecord:
        """Run a queued run here, in this process, to its end state."""
        return execute(self.store, run_id, self.settings, progress)

    def runs(self, status: str | None = None) -> list[RunRecord]:
        return self.store.list_runs(status)

    def run(self, run_id: int) -> RunRecord:
        return self.store.get(run_id)

    def samples(self, run_id: int) -> list[float]:
        return self.store.samples(run_id)

    def front(self, x: str = "latency_p50_ms", y: str = "top1",
              runs: list[RunRecord] | None = None) -> list[RunRecord]:
        """Done runs not dominated in (x, y), using each metric's declared direction."""
        for name in (x, y):
            if name not in METRICS:
                raise InferScopeError(f"unknown metric {name!r}; valid metrics: {', '.join(METRICS)}")
        done = [r for r in (runs if runs is not None else self.runs("done")) if r.status == "done"]
        return [done[i] for i in pareto_front([r.metrics for r in done], [x, y])]

    def export(self, run_id: int, path: Path, progress: Progress = no_progress) -> ExportResult:
        return export_run(self.store, run_id, Path(path), self.settings, progress)
