"""Where a run's time goes: operator by operator, from the runtime's own profiler.

The run's configuration is rebuilt exactly as it was measured (same recipe, threads, batch and session
settings) and called repeatedly under ONNX Runtime's profiler (an onnxruntime run), OpenVINO's
performance counters (an OpenVINO run) or `torch.profiler` (a PyTorch run). The time of every
operator is summed by operator type and by node; for an INT8 graph it says what share went to
operators still in float and to conversions left unfused (QuantizeLinear/DequantizeLinear/Cast, or
OpenVINO's FakeQuantize/Convert), the two reasons an INT8 model is not faster.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from core.errors import RecipeError
from core.options import option
from core.progress import Progress
from core.runtimes import RUNTIMES
from core.settings import Settings
from core.store import RunRecord

TOP_NODES = 15


@dataclass(frozen=True)
class ProfileConfig:
    """How long a profile runs (stored with it)."""

    calls: int = option(200, "profiled calls at the run's batch (after 10 unprofiled warm-up calls)", minimum=10,
                        maximum=100_000, label="profiled calls")


def profiled_engines() -> tuple[str, ...]:
    """The engines whose runs can be profiled: those of the runtimes that declare a profiler."""
    return tuple(runtime.engine for _, runtime in RUNTIMES if runtime.profiler is not None)


def profiled_engines_words() -> str:
    engines = profiled_engines()
    return f"{', '.join(engines[:-1])} and {engines[-1]}" if len(engines) > 1 else engines[0]


def profilable(run: RunRecord) -> None:
    """Refuse a run whose profile cannot be taken: not done, or run by an engine without a profiler."""
    if run.status != "done":
        raise RecipeError(f"run {run.id} is {run.status}; profile a done run")
    if run.engine not in profiled_engines():
        raise RecipeError(f"run {run.id} ran on {run.engine}; profiles are taken of {profiled_engines_words()} runs")


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
    profiler = RUNTIMES.get(kind).profiler
    if profiler is None:
        raise RecipeError(f"run {run.id} runs {RUNTIMES.get(kind).words} model, which has no profiler; profiles are "
                          f"taken of {profiled_engines_words()} runs")
    events, wall_ms = profiler(prepared, batches, config.calls, progress)
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
    from core.techniques import TECHNIQUES

    quantized = any(TECHNIQUES.get(step["technique"]).quantization for step in run.recipe)
    return {"op_types": types, "nodes": nodes,
            "summary": {"engine": kind, "calls": config.calls, "batch": prepared.recipe.runtime.batch,
                        "operators_ms_per_call": per_call(total), "wall_ms_per_call": wall_ms,
                        "quantized": quantized, "float_share_pct": shares["float"],
                        "conversion_share_pct": shares["conversion"], "int8_share_pct": shares["int8"],
                        "layout_share_pct": shares["layout"]}}
