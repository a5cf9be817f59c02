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

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RecipeError
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.settings import Settings
from core.store import RunRecord

TECHNIQUE = "ort_static_int8"
QUANTIZED_INPUTS = ("DequantizeLinear",)


@dataclass(frozen=True)
class SensitivityConfig:
    """How deep a diagnosis goes (stored with it)."""

    candidates: int = option(5, "nodes (those adding the most noise) requantized one at a time with that node kept "
                                "in float, to measure the accuracy each recovers", minimum=0, maximum=50,
                             label="nodes to try in float")
    images: int = option(64, "calibration images whose activations are compared", minimum=4, maximum=2000,
                         label="images compared")


@dataclass(frozen=True)
class NodeSensitivity:
    """One quantized node: how much error it carries and adds, and what keeping it in float recovers."""

    node: str
    op_type: str
    sqnr_db: float                  # its output in the INT8 model against FP32 (higher is better)
    noise_added_pct: float          # quantization noise at its output less at its input, % of signal power
    recovered: float | None = None  # accuracy points gained with it alone in float (None: not tried)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def int8_step(run: RunRecord) -> int:
    """Where `ort_static_int8` sits in the run's recipe; refuses a run without it, saying what works."""
    names = [step["technique"] for step in run.recipe]
    if TECHNIQUE not in names:
        raise RecipeError(f"run {run.id} ({run.recipe_summary}) has no {TECHNIQUE} step; sensitivity is measured "
                          f"for ONNX Runtime static INT8 runs, e.g. onnx_export → {TECHNIQUE}")
    if run.status != "done":
        raise RecipeError(f"run {run.id} is {run.status}; diagnose a done run")
    return names.index(TECHNIQUE)


def _noise_share(reference: np.ndarray, actual: np.ndarray) -> float:
    """Noise power over signal power (0 for an exact match)."""
    reference = reference.astype(np.float64)
    return float(np.sum((reference - actual) ** 2) / max(float(np.sum(reference ** 2)), 1e-30))


def _db(share: float) -> float:
    """A noise share as SQNR in dB, capped at 100 dB for an exact match."""
    return 100.0 if share <= 1e-10 else min(100.0, -10.0 * math.log10(share))


def _stacked(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


def analyse(run: RunRecord, settings: Settings, config: SensitivityConfig,
            progress: Progress = no_progress) -> dict[str, Any]:
    """The diagnosis of one done INT8 run: per-node rows (most sensitive first) and a summary."""
    import onnx
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        modify_model_output_intermediate_tensors,
    )

    from core.engine import prepare_run
    from core.techniques import TECHNIQUES
    from core.techniques.ort_static_int8 import CalibrationReader

    index = int8_step(run)
    step = run.recipe[index]
    before = replace(run, recipe=run.recipe[:index])  # the float model the INT8 step started from
    prepared = prepare_run(before, settings, lambda stage, f: progress(f"rebuild: {stage}"[:60], 0.2 * f))
    ctx, technique = prepared.ctx, TECHNIQUES.get(TECHNIQUE)
    base_config = parse_options(technique.config_cls, step["config"], what=f"technique {TECHNIQUE}")
    quantized = technique.apply(prepared.artifact, base_config, ctx)
    work = Path(ctx.work_dir)
    float_path, qdq_path = work / "float-prepared.onnx", work / "diagnosed-int8.onnx"
    qdq_path.write_bytes(quantized.model_bytes)
    progress("compare tensors", 0.3)

    images = ctx.calibration(config.images)
    input_name = onnx.load(str(float_path), load_external_data=False).graph.input[0].name
    activations = {}
    for name, path in (("float", float_path), ("qdq", qdq_path)):
        augmented = work / f"{name}-augmented.onnx"
        modify_model_output_intermediate_tensors(str(path), str(augmented))
        activations[name] = collect_activations(str(augmented), CalibrationReader(input_name, images))
        activations[name] |= _graph_outputs(path, CalibrationReader(input_name, images))  # not saved above
    progress("compare tensors", 0.45)

    qdq_graph = onnx.load_from_string(quantized.model_bytes).graph
    rows = []

    def noise_of(pair: tuple[str, str]) -> float | None:
        """Quantization noise of a float tensor as the INT8 model carries it (its value after Q/DQ)."""
        float_name, qdq_name = pair
        if float_name not in activations["float"]:  # a graph output: the quantizer renamed what feeds its Q/DQ
            float_name = qdq_name
        if float_name not in activations["float"] or qdq_name not in activations["qdq"]:
            return None
        return _noise_share(_stacked(activations["float"][float_name]), _stacked(activations["qdq"][qdq_name]))

    for node, inputs, output in _quantized_nodes(qdq_graph):
        out = noise_of(output)
        if out is None:
            continue  # nothing in the float model to compare it with
        arriving = max((n for n in map(noise_of, inputs) if n is not None), default=0.0)
        rows.append(NodeSensitivity(node.name, node.op_type, _db(out), 100.0 * max(0.0, out - arriving)))
    rows.sort(key=lambda r: -r.noise_added_pct)

    # Accuracy of the run's own INT8 model and of one node at a time in float, on the evaluation subset.
    runtime = prepared.recipe.runtime
    score = _scorer(prepared, runtime)
    metric, all_int8 = score(quantized)
    tried = []
    for k, row in enumerate(rows[:config.candidates]):
        progress("keep one node in float", 0.5 + 0.5 * k / max(1, config.candidates))
        keep = tuple(dict.fromkeys((*(base_config.keep_float or ()), row.node)))
        _, value = score(technique.apply(prepared.artifact, replace(base_config, keep_float=keep), ctx))
        tried.append(replace(row, recovered=value - all_int8))
    progress("keep one node in float", 1.0)
    ranked = sorted(tried, key=lambda r: -(r.recovered or 0.0)) + rows[len(tried):]
    float_value = _agreement_or_top1(prepared, prepared.reference, metric)
    return {"nodes": [r.to_dict() for r in ranked],
            "summary": {"metric": metric, "int8": all_int8, "float": float_value, "quantized_nodes": len(rows),
                        "images_compared": len(images), "calibration": dict(step["config"])}}


def _graph_outputs(path: Path, reader) -> dict[str, list[np.ndarray]]:
    """The model's own outputs on each batch (qdq_loss_debug saves only intermediate tensors)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL  # as collect_activations
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    found: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for batch in reader:
        for name, value in zip(names, session.run(names, batch)):
            found[name].append(value)
    return found


def _quantized_nodes(graph):
    """(node, its inputs, its output) for each node of a QDQ graph that takes an input through
    DequantizeLinear (it runs in INT8). Each tensor is a pair (its name in the float model, the name of the
    value the INT8 model carries for it): an input as the node receives it, after its Q/DQ pair; the output
    as its consumers see it, after its Q/DQ pair when it has one. The quantizer folds a Relu into that pair
    and gives the node the Relu's output name, so these pairs line up with the float model's tensors.
    Weights and other constants are left out (they carry no arriving noise)."""
    made_by = {out: node for node in graph.node for out in node.output}
    used_by: dict[str, list] = {}
    for node in graph.node:
        for tensor in node.input:
            used_by.setdefault(tensor, []).append(node)
    constants = {init.name for init in graph.initializer}

    def after_qdq(tensor: str) -> str:
        q = next((n for n in used_by.get(tensor, []) if n.op_type == "QuantizeLinear"), None)
        dq = q and next((n for n in used_by.get(q.output[0], []) if n.op_type == "DequantizeLinear"), None)
        return dq.output[0] if dq else tensor

    found = []
    for node in graph.node:
        if node.op_type in ("QuantizeLinear", "DequantizeLinear") or not node.output:
            continue
        inputs = []
        for tensor in node.input:
            dq = made_by.get(tensor)
            if dq is None or dq.op_type not in QUANTIZED_INPUTS:
                continue
            q = made_by.get(dq.input[0])
            original = q.input[0] if q is not None and q.op_type == "QuantizeLinear" else dq.input[0]
            if original not in constants:
                inputs.append((original, tensor))
        if any(made_by.get(t) is not None and made_by[t].op_type in QUANTIZED_INPUTS for t in node.input):
            found.append((node, inputs, (node.output[0], after_qdq(node.output[0]))))
    return found


def _agreement_or_top1(prepared, logits: np.ndarray, metric: str) -> float:
    predicted = logits.argmax(1)
    truth = prepared.labels if metric == "top1" else prepared.reference.argmax(1)
    return float(100.0 * np.mean(predicted == truth))


def _scorer(prepared, runtime):
    """score(artifact) -> (metric, value): top-1 where the data has labels, else agreement with FP32, in %."""
    from core.engine import predict_all
    from core.runtimes import make_predictor

    metric = "top1" if prepared.labels is not None else "agreement"

    def score(artifact) -> tuple[str, float]:
        logits = predict_all(make_predictor(artifact, runtime), prepared.images, runtime.batch, no_progress, "score")
        return metric, _agreement_or_top1(prepared, logits, metric)
    return score
