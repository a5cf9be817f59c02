"""Where a run's time goes: operator by operator, from the runtime's own profiler.

The run's configuration is rebuilt exactly as it was measured (same recipe, threads, batch and session
settings) and called repeatedly under ONNX Runtime's profiler (an onnxruntime run), OpenVINO's
performance counters (an OpenVINO run) or `torch.profiler` (a PyTorch run). The time of every
operator is summed by operator type and by node; for an INT8 graph it says what share went to
operators still in float and to conversions left unfused (QuantizeLinear/DequantizeLinear/Cast, or
OpenVINO's FakeQuantize/Convert), the two reasons an INT8 model is not faster.
"""
from __future__ import annotations

import json
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import RecipeError
from core.options import option
from core.progress import Progress
from core.settings import Settings
from core.store import RunRecord

# How ONNX Runtime names the operators of a quantized graph once it has fused the Q/DQ pairs around them.
INTEGER_OPS = ("QLinear", "ConvInteger", "MatMulInteger", "DynamicQuantize", "QGemm", "QAttention")
CONVERSION_OPS = ("QuantizeLinear", "DequantizeLinear", "Cast")
# Operators that move data rather than compute (layout changes onnxruntime inserts around NCHWc/NHWC kernels).
LAYOUT_OPS = ("Transpose", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "ReorderInput", "ReorderOutput",
              "NhwcMaxPool", "Concat", "Identity")
# OpenVINO's CPU plugin: the node types that convert or move data; its kernels name their precision (`_i8`).
OPENVINO_CONVERSION = ("FakeQuantize", "Convert")
OPENVINO_LAYOUT = ("Reorder", "Reshape", "Transpose", "Concat", "Squeeze", "Unsqueeze")
TOP_NODES = 15


@dataclass(frozen=True)
class ProfileConfig:
    """How long a profile runs (stored with it)."""

    calls: int = option(200, "profiled calls at the run's batch (after 10 unprofiled warm-up calls)", minimum=10,
                        maximum=100_000, label="profiled calls")


def _precision(op_type: str) -> str:
    """int8, float, conversion (Q/DQ/Cast) or layout (data movement, in whichever type flows through)."""
    if op_type in CONVERSION_OPS:
        return "conversion"
    if op_type in LAYOUT_OPS:
        return "layout"
    return "int8" if any(p in op_type for p in INTEGER_OPS) else "float"


def _openvino_precision(node_type: str, exec_type: str) -> str:
    """int8, float, conversion or layout for a node OpenVINO ran, from its type and its kernel's name."""
    if node_type in OPENVINO_CONVERSION:
        return "conversion"
    if node_type in OPENVINO_LAYOUT:
        return "layout"
    return "int8" if exec_type.lower().endswith(("_i8", "_u8")) else "float"


def profile(run: RunRecord, settings: Settings, config: ProfileConfig, progress: Progress,
            work_dir: Path) -> dict[str, Any]:
    """Operator times of a done run's configuration: by type and by node (per call, ms) and a summary."""
    from core.engine import prepare_run
    from core.scenarios.load import request_pool

    if run.status != "done":
        raise RecipeError(f"run {run.id} is {run.status}; profile a done run")
    prepared = prepare_run(replace(run), settings, lambda stage, f: progress(f"rebuild: {stage}"[:60], 0.3 * f),
                           work_dir=work_dir)
    batches = request_pool(prepared.images, prepared.recipe.runtime.batch)[:32]
    kind = prepared.artifact.kind
    if kind not in PROFILERS:
        raise RecipeError(f"run {run.id} runs a {kind} artifact; profiles are taken of onnxruntime, OpenVINO and "
                          "eager PyTorch runs")
    events, wall_ms = PROFILERS[kind](prepared, batches, config.calls, progress)
    # By type and precision: OpenVINO names an INT8 and a float convolution alike, its kernels tell them apart.
    by_type: dict[tuple[str, str], float] = defaultdict(float)
    by_node: dict[tuple[str, str], float] = defaultdict(float)
    for name, op_type, micros, precision in events:
        by_type[(op_type, precision)] += micros
        by_node[(name, op_type)] += micros
    total = sum(by_type.values()) or 1.0
    per_call = lambda micros: micros / 1000.0 / config.calls  # noqa: E731
    types = sorted(({"op_type": op, "precision": precision, "ms_per_call": per_call(us),
                     "share_pct": 100.0 * us / total} for (op, precision), us in by_type.items()),
                   key=lambda r: -r["ms_per_call"])
    nodes = sorted(({"node": name, "op_type": op, "ms_per_call": per_call(us), "share_pct": 100.0 * us / total}
                    for (name, op), us in by_node.items()), key=lambda r: -r["ms_per_call"])[:TOP_NODES]
    shares = defaultdict(float)
    for row in types:
        shares[row["precision"]] += row["share_pct"]
    quantized = any(step["technique"] in ("ort_static_int8", "ort_dynamic_int8", "nncf_int8") for step in run.recipe)
    return {"op_types": types, "nodes": nodes,
            "summary": {"engine": kind, "calls": config.calls, "batch": prepared.recipe.runtime.batch,
                        "operators_ms_per_call": per_call(total), "wall_ms_per_call": wall_ms,
                        "quantized": quantized, "float_share_pct": shares["float"],
                        "conversion_share_pct": shares["conversion"], "int8_share_pct": shares["int8"],
                        "layout_share_pct": shares["layout"]}}


Events = list[tuple[str, str, float, str]]  # (node, operator type, µs, precision) of every operator run


def _onnx_events(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Every operator ONNX Runtime ran during `calls` calls, and the wall time per call (ms)."""
    import onnxruntime as ort

    from core.runtimes import default_threads
    from core.runtimes.ort_runtime import PROVIDER_FOR_DEVICE, session_options

    runtime = prepared.recipe.runtime  # the same session the run was timed with, plus the profiler
    options = session_options(prepared.artifact.session, runtime.threads or default_threads())
    options.enable_profiling = True
    options.profile_file_prefix = str(Path(prepared.ctx.work_dir) / "ort-profile")
    session = ort.InferenceSession(prepared.artifact.model_bytes, sess_options=options,
                                   providers=[runtime.provider or PROVIDER_FOR_DEVICE[runtime.device]])
    name = session.get_inputs()[0].name
    feeds = [{name: np.ascontiguousarray(b, dtype=np.float32)} for b in batches]
    for k in range(10):  # the profile keeps these too: they are dropped below by their count
        session.run(None, feeds[k % len(feeds)])
    start = time.perf_counter()
    for k in range(calls):
        session.run(None, feeds[k % len(feeds)])
        if k % 50 == 0:
            progress("profile", 0.3 + 0.7 * k / calls)
    wall_ms = (time.perf_counter() - start) * 1000.0 / calls
    trace = json.loads(Path(session.end_profiling()).read_text())
    runs = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    cutoff = runs[9]["ts"] + runs[9]["dur"] if len(runs) > 10 else 0  # after the warm-up calls
    events = [(e["name"].removesuffix("_kernel_time"), e["args"].get("op_name", "?"), float(e["dur"]),
               _precision(e["args"].get("op_name", "?")))
              for e in trace if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= cutoff]
    return events, wall_ms


def _openvino_events(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Every node OpenVINO executed during `calls` calls (its performance counters), and the wall time per call."""
    import openvino as ov

    from core.runtimes import default_threads
    from core.runtimes.openvino_runtime import DEVICE_FOR, compile_properties

    runtime = prepared.recipe.runtime  # compiled as the run was timed, plus the counters
    properties = {**compile_properties(prepared.artifact.config, runtime.threads or default_threads()),
                  "PERF_COUNT": True}
    request = ov.Core().compile_model(prepared.artifact.model, DEVICE_FOR[runtime.device],
                                      properties).create_infer_request()
    tensors = [ov.Tensor(np.ascontiguousarray(b, dtype=np.float32)) for b in batches]
    for k in range(10):
        request.infer({0: tensors[k % len(tensors)]})
    events: Events = []
    wall_s = 0.0
    for k in range(calls):
        start = time.perf_counter()
        request.infer({0: tensors[k % len(tensors)]})
        wall_s += time.perf_counter() - start
        events += [(p.node_name, p.node_type, p.real_time.total_seconds() * 1e6,
                    _openvino_precision(p.node_type, p.exec_type))
                   for p in request.profiling_info if p.status == ov.ProfilingInfo.Status.EXECUTED]
        if k % 50 == 0:
            progress("profile", 0.3 + 0.7 * k / calls)
    return events, wall_s * 1000.0 / calls


def _torch_events(prepared, batches, calls: int, progress: Progress) -> tuple[Events, float]:
    """Self CPU time of each aten operator during `calls` eager calls, and the wall time per call (ms)."""
    import torch
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    from core.runtimes import default_threads

    torch.set_num_threads(prepared.recipe.runtime.threads or default_threads())  # as the run was timed
    module = prepared.artifact.module
    tensors = [torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)) for b in batches]
    with torch.inference_mode():
        for k in range(10):
            module(tensors[k % len(tensors)])
        with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
            start = time.perf_counter()
            for k in range(calls):
                module(tensors[k % len(tensors)])
                if k % 50 == 0:
                    progress("profile", 0.3 + 0.7 * k / calls)
            wall_ms = (time.perf_counter() - start) * 1000.0 / calls
    events = [(e.key, e.key, float(e.self_cpu_time_total), "float") for e in prof.key_averages()
              if e.self_cpu_time_total > 0]
    return events, wall_ms


# The profiler of each artifact kind: (prepared run, batches, calls, progress) -> (events, wall ms per call).
PROFILERS = {"onnx": _onnx_events, "openvino": _openvino_events, "torch": _torch_events}
