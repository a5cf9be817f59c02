"""Where an INT8 run's accuracy went: each quantized node's error and the accuracy it recovers in float.

For a run whose recipe has `ort_static_int8`, the float ONNX model before that step is rebuilt and
quantized again exactly as the run was. onnxruntime's own `qdq_loss_debug` matches every tensor of the
quantized model with the float model's on calibration images (disjoint from the evaluation subset),
so each quantized node gets the signal-to-quantization-noise ratio (SQNR, dB) of its output against
FP32 and the noise it adds: the share of its output's signal power that is quantization noise, less
that share at its input (noise shares add where decibels do not). The nodes that add the most are
then requantized one at a time with that node kept in float, and the accuracy it recovers is measured
on the run's own evaluation subset: the ranking users act on is measured, not guessed.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.bench.accuracy import predicted
from core.errors import RecipeError
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.quantization.noise import node_noise
from core.settings import Settings
from core.store import RunRecord


@dataclass(frozen=True)
class SensitivityConfig:
    """How deep a diagnosis goes (stored with it)."""

    candidates: int = option(5, "nodes (those adding the most noise) requantized one at a time with that node kept "
                                "in float, to measure the accuracy each recovers", minimum=0, maximum=50,
                             label="nodes to try in float")
    images: int = option(64, "calibration images whose activations are compared", minimum=4, maximum=2000,
                         label="images compared")


def int8_step(run: RunRecord) -> int:
    """Where the run's diagnosable quantizer (`Technique.diagnosable`) sits in its recipe; refuses a run without one,
    saying what works."""
    from core.techniques import TECHNIQUES

    steps = [k for k, step in enumerate(run.recipe) if TECHNIQUES.get(step["technique"]).diagnosable]
    if not steps:
        able = " or ".join(name for name, technique in TECHNIQUES if technique.diagnosable)
        raise RecipeError(f"run {run.id} ({run.recipe_summary}) has no {able} step; sensitivity is measured "
                          f"for such INT8 runs, e.g. onnx_export → {able}")
    if run.status != "done":
        raise RecipeError(f"run {run.id} is {run.status}; diagnose a done run")
    return steps[0]


def keep_in_float(recipe: list[dict[str, Any]], nodes: list[str]) -> list[dict[str, Any]]:
    """`recipe` with `nodes` added to the diagnosable quantizer's keep-float option (`Technique.keep_float`)."""
    from core.techniques import TECHNIQUES

    steps = []
    for step in recipe:
        technique, config = TECHNIQUES.get(step["technique"]), dict(step["config"])
        if technique.diagnosable and technique.keep_float:
            config[technique.keep_float] = list(dict.fromkeys([*(config.get(technique.keep_float) or []), *nodes]))
        steps.append({"technique": step["technique"], "config": config})
    return steps


def analyse(run: RunRecord, settings: Settings, config: SensitivityConfig, progress: Progress,
            work_dir: Path) -> dict[str, Any]:
    """The diagnosis of one done INT8 run: per-node rows (most sensitive first) and a summary."""
    from core.engine import prepare_run
    from core.techniques import TECHNIQUES

    index = int8_step(run)
    step = run.recipe[index]
    before = replace(run, recipe=run.recipe[:index])  # the float model the INT8 step started from
    prepared = prepare_run(before, settings, lambda stage, f: progress(f"rebuild: {stage}"[:60], 0.2 * f),
                           work_dir=work_dir)
    ctx, technique = prepared.ctx, TECHNIQUES.get(step["technique"])
    base_config = parse_options(technique.config_cls, step["config"], what=f"technique {technique.name}")
    quantized = technique.apply(prepared.artifact, base_config, ctx)
    work = Path(ctx.work_dir)
    float_path = work / "float-prepared.onnx"  # what the step quantized (after onnxruntime's pre-processing)
    progress("compare tensors", 0.3)

    images = ctx.calibration(config.images)
    rows = node_noise(float_path, quantized.model_bytes, images, work)
    progress("compare tensors", 0.45)

    # Accuracy of the run's own INT8 model and of one node at a time in float, on the evaluation subset.
    runtime = prepared.recipe.runtime
    score = _scorer(prepared, runtime)
    metric, all_int8 = score(quantized)
    tried = []
    for k, row in enumerate(rows[:config.candidates]):
        progress("keep one node in float", 0.5 + 0.5 * k / max(1, config.candidates))
        keep = tuple(dict.fromkeys((*(getattr(base_config, technique.keep_float) or ()), row.node)))
        _, value = score(technique.apply(prepared.artifact, replace(base_config, **{technique.keep_float: keep}), ctx))
        tried.append(replace(row, recovered=value - all_int8))
    progress("keep one node in float", 1.0)
    ranked = sorted(tried, key=lambda r: -(r.recovered or 0.0)) + rows[len(tried):]
    float_value = _agreement_or_top1(prepared, prepared.reference, metric)
    return {"nodes": [r.to_dict() for r in ranked],
            "summary": {"metric": metric, "int8": all_int8, "float": float_value, "quantized_nodes": len(rows),
                        "images_compared": len(images), "calibration": dict(step["config"])}}


def _agreement_or_top1(prepared, logits: np.ndarray, metric: str) -> float:
    truth = prepared.labels if metric == "top1" else predicted(prepared.reference)
    return float(100.0 * np.mean(predicted(logits) == truth))


def _scorer(prepared, runtime):
    """score(artifact) -> (metric, value): top-1 where the data has labels, else agreement with FP32, in %."""
    from core.engine import predict_all

    metric = "top1" if prepared.labels is not None else "agreement"

    def score(artifact) -> tuple[str, float]:
        logits = predict_all(prepared.predictor(artifact, runtime), prepared.images, runtime.batch, no_progress, "score")
        return metric, _agreement_or_top1(prepared, logits, metric)
    return score
