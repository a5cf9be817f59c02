"""Where a run's time goes: operator by operator, from the runtime's own profiler.

The run's configuration is rebuilt exactly as it was measured (same recipe, threads, batch and session
settings) and called repeatedly under ONNX Runtime's profiler (an onnxruntime run), OpenVINO's
performance counters (an OpenVINO run) or `torch.profiler` (a PyTorch run). The time of every
operator is summed by operator type and by node; for an INT8 graph it says what share went to
operators still in float and to conversions left unfused (QuantizeLinear/DequantizeLinear/Cast, or
OpenVINO's FakeQuantize/Convert), the two reasons an INT8 model is not faster.
"""
from __future__ import annotations

import math
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

    calls: int = option(200, "profiled calls at the run's batch, after 10 unprofiled warm-up calls (a language "
                             "model's call is one token's step: whole generations, one unprofiled first)", minimum=10,
                        maximum=100_000, label="profiled calls")


def profiled_engines() -> tuple[str, ...]:
    """The engines whose runs can be profiled: those of the runtimes that declare a profiler."""
    return tuple(dict.fromkeys(runtime.engine for _, runtime in RUNTIMES if runtime.profiler is not None))


def final_kind(run: RunRecord) -> str:
    """The kind of model the run's recipe left (what its runtime ran)."""
    from core.models import start_kind
    from core.techniques import TECHNIQUES

    kind = start_kind(run.model_source)
    for step in run.recipe:
        kind = TECHNIQUES.get(step["technique"]).output_kind(kind)
    return kind


def profiled_engines_words() -> str:
    engines = profiled_engines()
    return f"{', '.join(engines[:-1])} and {engines[-1]}" if len(engines) > 1 else engines[0]


def profilable(run: RunRecord) -> None:
    """Refuse a run whose profile cannot be taken: not done, or run by an engine without a profiler."""
    if run.status != "done":
        raise RecipeError(f"run {run.id} is {run.status}; profile a done run")
    runtime = RUNTIMES.get(final_kind(run))
    if runtime.profiler is None:
        raise RecipeError(f"run {run.id} ran {runtime.words} model on {run.engine}, which has no profiler here; "
                          f"profiles are taken of {profiled_engines_words()} runs")


def profile(run: RunRecord, settings: Settings, config: ProfileConfig, progress: Progress,
            work_dir: Path) -> dict[str, Any]:
    """Operator times of a done run's configuration: by type and by node (per call, ms: a language model's call is
    one step of its decode, one token) and a summary."""
    from core.engine import prepare_generation, prepare_run
    from core.models import generates
    from core.scenarios.load import request_pool

    profilable(run)
    rebuild = lambda stage, f: progress(f"rebuild: {stage}"[:60], 0.3 * f)  # noqa: E731
    calls = config.calls
    if generates(run.model_source):
        prepared = prepare_generation(replace(run), settings, rebuild, work_dir=work_dir)
        new_tokens = prepared.model.options["new_tokens"]
        batches, call, calls = prepared.prompt_batches(), "token", new_tokens * math.ceil(calls / new_tokens)
    else:
        prepared = prepare_run(replace(run), settings, rebuild, work_dir=work_dir)
        batches, call = request_pool(prepared.images, prepared.recipe.runtime.batch)[:32], "call"
    kind = prepared.artifact.kind
    events, wall_ms = RUNTIMES.get(kind).profiler(prepared, batches, calls, progress)
    # By type and precision: OpenVINO names an INT8 and a float convolution alike, its kernels tell them apart.
    by_type: dict[tuple[str, str], float] = defaultdict(float)
    by_node: dict[tuple[str, str], float] = defaultdict(float)
    for name, op_type, micros, precision in events:
        by_type[(op_type, precision)] += micros
        by_node[(name, op_type)] += micros
    total = sum(by_type.values()) or 1.0
    per_call = lambda micros: micros / 1000.0 / calls  # noqa: E731
    types = sorted(({"op_type": op, "precision": precision, "ms_per_call": per_call(us),
                     "share_pct": 100.0 * us / total} for (op, precision), us in by_type.items()),
                   key=lambda r: -r["ms_per_call"])
    nodes = sorted(({"node": name, "op_type": op, "ms_per_call": per_call(us), "share_pct": 100.0 * us / total}
                    for (name, op), us in by_node.items()), key=lambda r: -r["ms_per_call"])[:TOP_NODES]
    shares = defaultdict(float)
    for row in types:
        shares[row["precision"]] += row["share_pct"]
    from core.techniques import TECHNIQUES

    quantization = {TECHNIQUES.get(step["technique"]).quantization for step in run.recipe}
    return {"op_types": types, "nodes": nodes,
            "summary": {"engine": kind, "calls": calls, "call": call, "batch": prepared.recipe.runtime.batch,
                        "operators_ms_per_call": per_call(total), "wall_ms_per_call": wall_ms,
                        # activations quantized (static, dynamic): what the INT8 advice is about
                        "quantized": bool(quantization & {"static", "dynamic"}),
                        "weight_only": "weight-only" in quantization, "float_share_pct": shares["float"],
                        "conversion_share_pct": shares["conversion"], "int8_share_pct": shares["int8"],
                        "weight_only_share_pct": shares["weight-only"], "layout_share_pct": shares["layout"]}}
