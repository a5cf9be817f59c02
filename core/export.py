"""Run -> one self-contained ONNX file with its recipe and metrics inside, verified in the runtime it was measured in
(onnxruntime, or OpenVINO for a run measured there)."""
from __future__ import annotations

import errno
import json
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.artifacts import OnnxArtifact
from core.bench.accuracy import fidelity, predicted, top_k
from core.bench.machine import machine_lock
from core.engine import (
    apply_steps,
    predict_all,
    prepare_generation,
    prepare_run,
)
from core.errors import InferScopeError, RecipeError, VerificationError
from core.export_plan import ExportPlan, plan_export
from core.models import generates
from core.models.onnx_file import METADATA_INPUT_SPEC, METADATA_LABEL_SPACE
from core.progress import Progress, no_progress
from core.recipe import RuntimeSettings, exporter_of, make_step
from core.runtimes import RUNTIMES
from core.settings import Settings
from core.store import RunRecord, RunStore
from core.workdirs import job_folder

# Two logits closer than this share of their row's range are a tie: an engine's float rounding may order them
# either way, so a prediction that differs from the run's there is excused (and counted).
TIE_SHARE = 1e-3


@dataclass(frozen=True)
class ExportResult:
    path: Path
    size_bytes: int
    metric: str              # "top1", or "agreement" when the run has no accuracy
    stored: float
    measured: float
    notes: tuple[str, ...] = ()   # what the file does not carry (runtime choices of the run)
    verified_with: str = "onnxruntime"  # the engine the file was scored in: the one the run was measured in
    images: int = 0               # images the file was held to the run's predictions on (0: the run stored none)
    ties_excused: int = 0         # of those, predicted otherwise than the run on a near-tie (TIE_SHARE)
    tokens: int = 0               # a language model's: greedy tokens the file generated as the run did (of `images`
                                  # prompts)

    @property
    def difference(self) -> float:
        return self.measured - self.stored


def _metadata(run: RunRecord, artifact: OnnxArtifact, input_spec, label_space: str,
              plan: ExportPlan) -> dict[str, str]:
    metrics = {k: v for k, v in run.metrics.items() if v is not None}
    return {"inferscope.run_id": str(run.id), "inferscope.model": run.model, "inferscope.dataset": run.dataset,
            "inferscope.not_carried": json.dumps(list(plan.notes)), "inferscope.recipe": json.dumps(run.recipe),
            "inferscope.runtime": json.dumps(run.runtime),
            "inferscope.session": json.dumps(artifact.session), "inferscope.metrics": json.dumps(metrics),
            "inferscope.measured_with": json.dumps({"engine": run.engine, "device": run.runtime.get("device", "cpu"),
                                                    "settings": (run.environment or {}).get("runtime_settings")}),
            "inferscope.environment": json.dumps(run.environment or {}),
            METADATA_INPUT_SPEC: json.dumps(input_spec.to_dict()), METADATA_LABEL_SPACE: label_space}


def export_run(store: RunStore, run_id: int, path: Path, settings: Settings,
               progress: Progress = no_progress) -> ExportResult:
    """Rebuild the run's configuration as ONNX, write it with metadata, and prove it reproduces the run.

    The file appears at `path` only after verification passes; on failure nothing is left behind.
    A run with no faithful ONNX form and an output path that cannot be written are refused before
    anything is rebuilt.
    """

    run = store.get(run_id)
    plan = plan_export(run)
    if not plan.exportable:
        raise RecipeError(plan.refusal())
    path = check_output_path(Path(path).expanduser(), run.id)
    predictions = store.predictions(run.id)
    with machine_lock(f"the export of run {run.id}", progress), \
            job_folder(settings, f"export-{run.id}") as folder:  # rebuilding and scoring are heavy
        return _export(run, predictions, plan, path, settings, progress, folder)


def _export(run: RunRecord, predictions: list[int] | None, plan: ExportPlan, path: Path, settings: Settings,
            progress: Progress, folder: Path) -> ExportResult:
    import onnx

    if generates(run.model_source):
        return _export_generation(run, plan, path, settings, progress, folder)
    prepared = prepare_run(replace(run, recipe=list(plan.steps)), settings, progress, work_dir=folder)
    runtime = RUNTIMES.get(prepared.artifact.kind)
    artifact = runtime.exported(prepared.artifact)
    if artifact.kind == "torch":
        artifact = apply_steps(artifact, [make_step(exporter_of(artifact.kind))], prepared.ctx)
    model = onnx.load_from_string(artifact.model_bytes)
    del model.metadata_props[:]
    for key, value in _metadata(run, artifact, prepared.model.input_spec, prepared.model.label_space, plan).items():
        model.metadata_props.add(key=key, value=value)
    model.doc_string = f"InferScope run {run.id}: {run.model} {run.recipe_summary}"
    data = model.SerializeToString()

    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        partial.write_bytes(data)
        written = runtime.reopen(partial.read_bytes(), prepared.artifact)  # the file on disk, not the bytes in memory
        verified = _verify(run, predictions, written, prepared, progress)
        companions = prepared.model.input_spec.companion_files(folder / "companions")
        if companions:  # a text model: the graph and its tokenizer travel together, in one zip
            path = path.with_suffix(".zip")
            bundle(partial, companions, prepared, path.with_name(f".{path.name}.partial-{os.getpid()}"), path)
        else:
            os.replace(partial, path)
    except OSError as exc:  # a disk that filled up meanwhile: say so, leave nothing behind
        raise _write_error(path, exc) from None
    finally:
        partial.unlink(missing_ok=True)
    return replace(verified, path=path, size_bytes=path.stat().st_size, notes=plan.notes)


def _export_generation(run: RunRecord, plan: ExportPlan, path: Path, settings: Settings, progress: Progress,
                       folder: Path) -> ExportResult:
    """A language model's run as one zip: the ONNX graph with its KV cache, the tokenizer and a generation config,
    written only after the written graph generated, in ONNX Runtime, every greedy token the run generated."""
    import zipfile

    import onnx

    from core.generation.package import GRAPH, write_package

    continuations = (run.environment or {}).get("continuations") or []
    if not continuations or "token_ids" not in continuations[0]:
        raise RecipeError(f"run {run.id} stored no generated tokens to verify a file against; measure it again and "
                          "export that run")
    prepared = prepare_generation(replace(run, recipe=list(plan.steps)), settings, progress, work_dir=folder)
    artifact = prepared.artifact
    if RUNTIMES.get(artifact.kind).engine != "onnxruntime":
        artifact = apply_steps(artifact, [make_step(exporter_of(artifact.kind))], prepared.ctx)
    model = onnx.load_from_string(artifact.model_bytes)
    metrics = {k: v for k, v in run.metrics.items() if v is not None}
    for key, value in {"inferscope.run_id": str(run.id), "inferscope.model": run.model,
                       "inferscope.dataset": run.dataset, "inferscope.recipe": json.dumps(run.recipe),
                       "inferscope.not_carried": json.dumps(list(plan.notes)),
                       "inferscope.metrics": json.dumps(metrics)}.items():
        model.metadata_props.add(key=key, value=value)
    graph = folder / GRAPH
    onnx.save(model, str(graph))
    progress("verify", 0.0)
    package = write_package(graph, prepared.model.input_spec.tokenizer, artifact.config, folder / "package",
                            np.asarray([c["prompt_ids"] for c in continuations], dtype=np.int64),
                            np.asarray([c["token_ids"] for c in continuations], dtype=np.int64))
    progress("verify", 1.0)
    path = path.with_suffix(".zip")
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            for name in package.files:
                zipped.write(package.folder / name, name)
        os.replace(partial, path)
    except OSError as exc:
        raise _write_error(path, exc) from None
    finally:
        partial.unlink(missing_ok=True)
    agreement = float(run.metrics.get("greedy_agreement") or 0.0)
    return ExportResult(path, path.stat().st_size, "greedy_agreement", agreement, agreement, plan.notes,
                        "onnxruntime", images=package.prompts_checked, tokens=package.tokens_checked)


def bundle(graph: Path, companions: list[Path], prepared, partial: Path, path: Path) -> None:
    """Write one zip at `path`: the verified graph as model.onnx, the files it needs beside it (a tokenizer), and
    inferscope.json naming the graph's inputs, the max length and padding it was measured with, and the classes."""
    import zipfile

    import onnx

    inputs = [i.name for i in onnx.load(str(graph), load_external_data=False).graph.input]
    manifest = {"graph": "model.onnx", "inputs": inputs, "outputs": ["logits"],
                "input_spec": {k: v for k, v in prepared.model.input_spec.to_dict().items() if k != "tokenizer"},
                "tokenizer": [p.name for p in companions], "label_space": prepared.model.label_space,
                "num_classes": prepared.model.num_classes, "classes": list(prepared.model.class_names) or None}
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
            zipped.write(graph, "model.onnx")
            for file in companions:
                zipped.write(file, file.name)
            zipped.writestr("inferscope.json", json.dumps(manifest, indent=2))
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def check_output_path(path: Path, run_id: int) -> Path:
    """Refuse an output path that cannot take the file, before the (long) rebuild; returns it."""
    if path.is_dir():
        raise InferScopeError(f"{path} is a folder; give a file name, e.g. {path / f'inferscope-run-{run_id}.onnx'}")
    if path.parent.exists() and not path.parent.is_dir():
        raise InferScopeError(f"{path.parent} is a file, not a folder; give an output path inside a folder")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.probe-"):
            pass
    except OSError as exc:
        raise _write_error(path, exc) from None
    return path


def _write_error(path: Path, exc: OSError) -> InferScopeError:
    advice = {errno.ENOSPC: "free some space or choose another folder",
              errno.EDQUOT: "free some space or choose another folder",
              errno.EACCES: "the folder is not writable; choose another folder",
              errno.EROFS: "the folder is on a read-only file system; choose another folder"}
    return InferScopeError(f"could not write {path}: {exc.strerror or exc}; "
                           f"{advice.get(exc.errno, 'choose another output path')}, then export again")


def disagreements(logits: np.ndarray, predictions: list[int]) -> tuple[list[int], int]:
    """Where `logits` predict another class than `predictions`: the images that are not near-ties of the two
    classes' logits (TIE_SHARE of the row's range), and how many are."""
    mine, theirs = predicted(logits), np.asarray(predictions)
    rows = np.arange(len(logits))
    tie = logits[rows, mine] - logits[rows, theirs] <= TIE_SHARE * np.maximum(np.ptp(logits, axis=1), 1e-12)
    differ = np.flatnonzero(mine != theirs)
    return [int(i) for i in differ if not tie[i]], int(np.sum(tie[differ]))


def _verify(run: RunRecord, predictions: list[int] | None, written: Any, prepared,
            progress: Progress) -> ExportResult:
    """Score the written file (`written`: its bytes read back into the run's runtime) on the run's subset and hold
    it to the run: per image, the file must predict the class the run stored, except on a near-tie of its own
    logits (counted); and its top-1 (agreement without labels) must be the run's, give or take those ties.

    A run from before predictions were stored is held to its metric within one image."""
    batch = prepared.recipe.runtime.batch
    predictor = prepared.predictor(written, RuntimeSettings(threads=prepared.recipe.runtime.threads, batch=batch))
    logits = predict_all(predictor, prepared.images, batch, progress, "verify")
    if prepared.labels is not None and run.metrics.get("top1") is not None:
        metric, measured = "top1", top_k(logits, prepared.labels, 1).percent
    else:
        metric, measured = "agreement", fidelity(logits, prepared.reference).agreement.percent
    stored, images = float(run.metrics[metric]), len(logits)
    result = ExportResult(Path(), 0, metric, stored, measured, verified_with=predictor.engine, images=images)
    if predictions is None:
        if not np.isfinite(measured) or abs(measured - stored) > 100.0 / images + 1e-9:
            raise VerificationError(f"the exported file scores {metric} {measured:.2f}% but run {run.id} stored "
                                    f"{stored:.2f}% (more than one image of {images} apart); the file was not written")
        return replace(result, images=0)
    unexcused, excused = disagreements(logits, predictions)
    if unexcused:
        mine = predicted(logits)
        shown = ", ".join(f"image {i}: class {mine[i]} where the run predicted {predictions[i]}"
                          for i in unexcused[:3])
        raise VerificationError(f"the exported file predicts differently from run {run.id} on {len(unexcused)} of "
                                f"{images} images that are not ties ({shown}); it does not reproduce the run "
                                "(was it measured on another machine or library version?); the file was not written")
    if not np.isfinite(measured) or abs(measured - stored) > 100.0 * excused / images + 1e-9:
        raise VerificationError(f"the exported file scores {metric} {measured:.2f}% but run {run.id} stored "
                                f"{stored:.2f}%, more than its {excused} tie(s) of {images} images explain; the file "
                                "was not written")
    return replace(result, ties_excused=excused)
