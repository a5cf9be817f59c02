"""How much quantization noise each node of a QDQ model adds, against the float model it came from.

onnxruntime's `qdq_loss_debug` saves every intermediate tensor of both models on the same images; each
quantized node's output (as its consumers see it, after its Q/DQ pair) is compared with the float
model's, and the noise it adds is the share of its output's signal power that is noise, less the share
arriving at its inputs (noise shares add where decibels do not). Used by Diagnose and by the
accuracy-aware INT8 loop of `ort_static_int8`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QUANTIZED_INPUTS = ("DequantizeLinear",)


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


def node_noise(float_path: Path, qdq_bytes: bytes, images: np.ndarray, work: Path) -> list[NodeSensitivity]:
    """Every quantized node of the QDQ model (`qdq_bytes`, quantized from `float_path`) with its output SQNR
    and the noise it adds on `images`, the most noise first."""
    import onnx
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations,
        modify_model_output_intermediate_tensors,
    )

    from core.quantization.calibration import CalibrationReader

    qdq_path = work / "compared-int8.onnx"
    qdq_path.write_bytes(qdq_bytes)
    input_names = [i.name for i in onnx.load(str(float_path), load_external_data=False).graph.input]
    activations = {}
    for name, path in (("float", float_path), ("qdq", qdq_path)):
        augmented = work / f"{name}-augmented.onnx"
        modify_model_output_intermediate_tensors(str(path), str(augmented))
        activations[name] = collect_activations(str(augmented), CalibrationReader(input_names, images))
        activations[name] |= _graph_outputs(path, CalibrationReader(input_names, images))  # not saved above
    qdq_graph = onnx.load_from_string(qdq_bytes).graph
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
    return rows


def _noise_share(reference: np.ndarray, actual: np.ndarray) -> float:
    """Noise power over signal power (0 for an exact match)."""
    reference = reference.astype(np.float64)
    return float(np.sum((reference - actual) ** 2) / max(float(np.sum(reference ** 2)), 1e-30))


def _db(share: float) -> float:
    """A noise share as SQNR in dB, capped at 100 dB for an exact match."""
    return 100.0 if share <= 1e-10 else min(100.0, -10.0 * math.log10(share))


def _stacked(arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a).ravel() for a in arrays])


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
