"""One wording for what a run lost and what it traded (Results, Explore, Export, the report and the CLI all use
these): a quality drop against FP32 in its own unit, why a run misses a constraint, a speed-for-quality trade; and
where a profile says the time went."""
from __future__ import annotations

from typing import Any

from core.metrics import DEFAULT_ACCURACY, DEFAULT_LATENCY, OBJECTIVES
from core.pareto import Direction
from core.store import RunRecord


def accuracy_drop(run: RunRecord, base: RunRecord | None, metric: str = DEFAULT_ACCURACY) -> float | None:
    """What the run lost against the FP32 baseline (positive = worse), in `drop_unit(metric)`: points of a
    percentage (top-1), or per cent of FP32's value for another quality figure (perplexity: its rise); None when
    not measurable."""
    if base is None or run.metrics.get(metric) is None or base.metrics.get(metric) is None:
        return None
    ours, theirs = run.metrics[metric], base.metrics[metric]
    worse = theirs - ours if OBJECTIVES[metric].direction is Direction.MAX else ours - theirs
    if OBJECTIVES[metric].unit == "%":
        return worse
    return 100.0 * worse / abs(theirs) if theirs else None


def drop_unit(metric: str) -> str:
    """How `accuracy_drop` measures a loss of `metric`: "points" of a percentage, else "%" of FP32's value."""
    return "points" if OBJECTIVES[metric].unit == "%" else "%"


# The drop a recommendation or an exploration allows unless told: a point of top-1, 5% of FP32's perplexity.
DEFAULT_MAX_DROP = {"points": 1.0, "%": 5.0}


def drop_violation(drop: float, max_drop: float, metric: str = DEFAULT_ACCURACY) -> str:
    """Why a run misses the accuracy constraint."""
    if drop_unit(metric) == "points":
        return f"{drop:.2f} points below FP32 (> {max_drop:g})"
    return f"{accuracy_words(metric)} {drop:.2f}% worse than FP32 (> {max_drop:g}%)"


def drop_limit(max_drop: float, metric: str = DEFAULT_ACCURACY) -> str:
    """The accuracy constraint in words: "drop ≤ 1 points", "perplexity ≤ 5% above FP32"."""
    if drop_unit(metric) == "points":
        return f"drop ≤ {max_drop:g} points"
    worse = "above" if OBJECTIVES[metric].direction is Direction.MIN else "below"
    return f"{accuracy_words(metric)} ≤ {max_drop:g}% {worse} FP32"


def limit_violation(metric: str, value: float, limit: float) -> str:
    """Why a run misses a latency or size limit, in the metric's own unit."""
    unit = OBJECTIVES[metric].unit
    return f"{metric} {value:.3g} {unit} > {limit:g} {unit}"


def accuracy_words(metric: str) -> str:
    """`top1` -> "top-1": the catalogue's label without its unit."""
    return OBJECTIVES[metric].label.split(" (")[0]


def trade(run: RunRecord, other: RunRecord, latency: str, accuracy: str, other_name: str) -> str:
    """'2.00x faster than run 3 (onnx_export) for 1.60 points less top-1' (or '2.00x faster in inter-token p50 …
    for 0.50% higher perplexity'), from `run`'s side; `other_name` is how the other run is named ("run 3
    (onnx_export)", "the FP32 baseline")."""
    ratio = other.metrics[latency] / run.metrics[latency]
    speed = f"{ratio:.2f}x faster" if ratio >= 1 else f"{1 / ratio:.2f}x slower"
    if latency != DEFAULT_LATENCY:  # a ratio of inter-token latency is not one of whole calls: say which it is
        speed += f" in {accuracy_words(latency)}"
    lost = accuracy_drop(run, other, accuracy)
    words = accuracy_words(accuracy)
    if drop_unit(accuracy) == "points":
        cost = (f"for {lost:.2f} points less {words}" if lost > 0 else
                f"and {-lost:.2f} points more {words}" if lost < 0 else f"at the same {words}")
    else:
        higher = OBJECTIVES[accuracy].direction is Direction.MIN  # a worse perplexity is a higher one
        cost = (f"for {abs(lost):.2f}% {'higher' if higher else 'lower'} {words}" if lost and lost > 0 else
                f"and {abs(lost):.2f}% {'lower' if higher else 'higher'} {words}" if lost else f"at the same {words}")
    return f"{speed} than {other_name} {cost}"


def profile_words(summary: dict[str, Any]) -> str:
    """How an operator profile's summary is said (Diagnose, the report, the CLI): "the operators take 0.845 ms of
    1.020 ms per call (onnx, batch 1, 200 calls)", per token for a language model, with where a quantized model's
    time went."""
    call = summary.get("call", "call")
    words = (f"the operators take {summary['operators_ms_per_call']:.3f} ms of {summary['wall_ms_per_call']:.3f} ms "
             f"per {call} ({summary['engine']}, batch {summary['batch']}, {summary['calls']} {call}s)")
    if summary.get("quantized"):
        words += (f"; {summary['int8_share_pct']:.0f}% of it in INT8, {summary['float_share_pct']:.0f}% in float, "
                  f"{summary['conversion_share_pct']:.0f}% in conversions (Q/DQ, Cast, FakeQuantize), "
                  f"{summary['layout_share_pct']:.0f}% moving data")
    elif summary.get("weight_only"):
        words += (f"; {summary['weight_only_share_pct']:.0f}% of it in the weight-only matmuls (MatMulNBits, "
                  f"FullyConnectedCompressed: weights unpacked as they are read), {summary['float_share_pct']:.0f}% in "
                  f"float, {summary['layout_share_pct']:.0f}% moving data")
    return words
