"""Where a language model's generation spends its time, operator by operator, under its engine's own profiler:
ONNX Runtime's trace (an `lm-onnx` run), OpenVINO's performance counters (`lm-openvino`) or `torch.profiler` (the
eager model). The run's prompts are generated from as it timed them: one unprofiled generation first, then enough
generations for the asked number of calls, where a call is one step of the decode (one token for each prompt of the
batch; the prompt's own step is one of them). The events are summed per node, so a long profile stays small."""
from __future__ import annotations

import json
import math
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from core.progress import Progress
from core.runtimes.base import default_threads

Events = list[tuple[str, str, float, str]]  # (node, operator type, microseconds, precision)


def _generations(prepared: Any, calls: int) -> tuple[int, int]:
    """(new tokens per generation, generations) that hold `calls` steps (a whole number of generations' worth)."""
    new_tokens = int(prepared.model.options["new_tokens"])
    return new_tokens, max(1, math.ceil(calls / new_tokens))


def _generate_all(decoder: Any, batches: list[np.ndarray], new_tokens: int, generations: int,
                  progress: Progress) -> float:
    """Generate `generations` times, cycling the batches; the wall time per step, ms."""
    start = time.perf_counter()
    for k in range(generations):
        decoder.generate(batches[k % len(batches)], new_tokens)
        progress("profile", 0.3 + 0.7 * (k + 1) / generations)
    return (time.perf_counter() - start) * 1000.0 / (generations * new_tokens)


def _summed(events: dict[tuple[str, str, str], float]) -> Events:
    return [(name, op_type, micros, precision) for (name, op_type, precision), micros in events.items()]


def profile_graph(prepared: Any, batches: list[np.ndarray], calls: int, progress: Progress) -> tuple[Events, float]:
    """ONNX Runtime's trace of the run's graph generating: every kernel after the warm-up generation's steps."""
    from core.generation.graphs import ort_decoder, ort_session
    from core.runtimes.ort_runtime import operator_precision

    new_tokens, generations = _generations(prepared, calls)
    threads = prepared.recipe.runtime.threads or default_threads()
    session = ort_session(prepared.artifact.model_bytes, threads, str(Path(prepared.ctx.work_dir) / "ort-profile"))
    decoder = ort_decoder(session, prepared.artifact.config)
    decoder.generate(batches[0], new_tokens)  # the warm-up generation: its steps are cut from the trace below
    wall_ms = _generate_all(decoder, batches, new_tokens, generations, progress)
    trace = json.loads(Path(session.end_profiling()).read_text())
    steps = [e for e in trace if e.get("cat") == "Session" and e.get("name") == "model_run"]
    cutoff = steps[new_tokens - 1]["ts"] + steps[new_tokens - 1]["dur"]
    events: dict[tuple[str, str, str], float] = defaultdict(float)
    for e in trace:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time") and e["ts"] >= cutoff:
            op_type = e["args"].get("op_name", "?")
            events[(e["name"].removesuffix("_kernel_time"), op_type, operator_precision(op_type))] += float(e["dur"])
    return _summed(events), wall_ms


def profile_stateful(prepared: Any, batches: list[np.ndarray], calls: int,
                     progress: Progress) -> tuple[Events, float]:
    """OpenVINO's performance counters of the stateful request, read after every step of the profiled
    generations (a request's counters are those of its last inference)."""
    import openvino as ov

    from core.generation.graphs import openvino_decoder
    from core.runtimes.openvino_runtime import openvino_precision

    new_tokens, generations = _generations(prepared, calls)
    threads = prepared.recipe.runtime.threads or default_threads()
    decoder = openvino_decoder(prepared.artifact.model, prepared.artifact.config, threads, counters=True)
    decoder.generate(batches[0], new_tokens)  # warm-up, before the counters are read
    events: dict[tuple[str, str, str], float] = defaultdict(float)

    def read(request: Any) -> None:
        for p in request.profiling_info:
            if p.status == ov.ProfilingInfo.Status.EXECUTED:
                events[(p.node_name, p.node_type, openvino_precision(p.node_type, p.exec_type))] += \
                    p.real_time.total_seconds() * 1e6

    decoder.after_step = read
    wall_ms = _generate_all(decoder, batches, new_tokens, generations, progress)
    return _summed(events), wall_ms


def profile_eager(prepared: Any, batches: list[np.ndarray], calls: int, progress: Progress) -> tuple[Events, float]:
    """`torch.profiler`'s self CPU time of each aten operator while the eager model generates (with or without its
    KV cache, as the run did)."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    new_tokens, generations = _generations(prepared, calls)
    decoder = prepared.decoder()  # sets the run's threads
    decoder.generate(batches[0], new_tokens)  # warm-up, outside the profile
    with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
        wall_ms = _generate_all(decoder, batches, new_tokens, generations, progress)
    return [(e.key, e.key, float(e.self_cpu_time_total), torch_precision(e.key)) for e in prof.key_averages()
            if e.self_cpu_time_total > 0], wall_ms


def torch_precision(op: str) -> str:
    """weight-only for torch's packed-weight matmuls (torchao's INT8 weight-only), int8 for its quantized kernels
    (dynamic INT8), else float."""
    if "pack_mm" in op:  # aten::_weight_int8pack_mm, aten::_weight_int4pack_mm
        return "weight-only"
    return "int8" if op.startswith("quantized::") else "float"


PROFILERS: dict[str, Callable[..., tuple[Events, float]]] = {
    "lm": profile_eager, "lm-onnx": profile_graph, "lm-openvino": profile_stateful}
