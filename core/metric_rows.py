"""Compare's metric rows: the runs' metrics side by side, the key ones first, each value with its 95% interval
folded in and each run's change against the reference in words. Pure: used by the Compare page and the report."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.metrics import CATALOGUE, Metric
from core.store import ALL_METRICS, RunRecord

# What a comparison shows first: the numbers a latency budget is decided on.
KEY_METRICS = ("top1", "agreement", "perplexity", "greedy_agreement", "kl_mean", "latency_p50_ms",
               "generated_tokens_per_s", "itl_p50_ms", "ttft_p50_ms", "throughput_ips", "tokens_per_s", "size_mb",
               "peak_mem_mb")


def _change(metric: Metric, value: float, ref: float) -> str:
    """A run's value against the reference's, in words: "7.7x faster", "-2.15 points", "1.3x smaller"."""
    if metric.unit == "%":
        return f"{value - ref:+.2f} points"
    if not ref or not value:
        return f"{value - ref:+{metric.fmt}}"
    ratio = value / ref
    if round(ratio, 2) == 1:
        return "same"
    if metric.group == "latency" and metric.name != "latency_std_ms":  # every latency figure, percentile or not
        words = ("faster", "slower")
    elif metric.group == "rate":  # more per second is faster
        return f"{ratio:.1f}x faster" if ratio > 1 else f"{1 / ratio:.1f}x slower"
    else:
        words = ("smaller", "larger") if metric.group == "size" else ("lower", "higher")
    return f"{1 / ratio:.1f}x {words[0]}" if ratio < 1 else f"{ratio:.1f}x {words[1]}"


def _with_interval(metric: Metric, run: RunRecord) -> str:
    """A run's value as a table shows it, with its 95% interval folded in: "96.90 (94.8–98.2)"."""
    value = run.metrics.get(metric.name)
    if value is None:
        return ""
    low, high = (run.metrics.get(k) for k in metric.interval) if metric.interval else (None, None)
    interval = f" ({low:.{1 if metric.unit == '%' else 3}f}–{high:.{1 if metric.unit == '%' else 3}f})" \
        if low is not None and high is not None else ""
    return metric.format(value) + interval


def metric_deltas(runs: Sequence[RunRecord], reference: RunRecord) -> list[dict[str, Any]]:
    """The runs' metrics side by side, one row per metric that any of them has: the key metrics first (accuracy,
    p50, throughput, size), each value with its 95% interval folded in, and each run's change against the reference
    in words ("7.7x faster", "-2.15 points"). Interval bounds are no rows of their own."""
    names = [*KEY_METRICS, *(n for n in ALL_METRICS if n not in KEY_METRICS)]
    rows = []
    for name in names:
        metric = CATALOGUE[name]
        if metric.group == "interval" or all(run.metrics.get(name) is None for run in runs):
            continue
        row: dict[str, Any] = {"metric": metric.label}
        ref = reference.metrics.get(name)
        for run in runs:
            row[f"run {run.id}"] = _with_interval(metric, run)
        for run in runs:
            if run.id != reference.id:
                value = run.metrics.get(name)
                row[f"{run.id} vs {reference.id}"] = "" if value is None or ref is None else _change(metric, value, ref)
        rows.append(row)
    return rows
