"""The metric catalogue: every measured number of a run, in one place.

Each entry names a metric once — its store column, unit, which direction is better, its labels,
display format and help. The schema's columns, the front's objectives, the CLI's tables and the
pages' columns are all read from here, so adding a metric is one line plus a migration. Pure: no
I/O, nothing imported beyond the standard library.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Literal

Group = Literal["latency", "accuracy", "rate", "size", "serving", "cache", "interval", "count", "timing",
                "contention"]


class Direction(str, Enum):
    MIN = "min"
    MAX = "max"


@dataclass(frozen=True)
class Metric:
    """One measured number.

    `direction`: which way is better; None for numbers that are no objective (interval bounds,
    counts). `interval`: the two metrics that hold its 95% interval, where it has one. `label`: for
    axes and menus; `column`: a short table heading. `since`: the schema version that added its store
    column. `summary`: shown in the CLI's and the Results page's run tables.
    """

    name: str
    unit: str
    group: Group
    help: str
    label: str
    column: str
    direction: Direction | None = None
    fmt: str = ".4g"
    integer: bool = False
    since: int = 1
    summary: bool = False
    interval: tuple[str, str] | None = None  # the metrics holding its 95% interval (low, high)
    percentile: float | None = None  # for latency percentiles: which one (the engine computes it from the samples)

    @property
    def words(self) -> str:
        """The metric named in a sentence: its label without the unit ("top-1", "agreement with FP32")."""
        return self.label.split(" (")[0]

    def format(self, value: float | int | None) -> str:
        """The value as tables show it; a blank for a missing value."""
        return "" if value is None else format(value, self.fmt)


_MIN, _MAX = Direction.MIN, Direction.MAX
METRICS_IN_ORDER: tuple[Metric, ...] = (
    Metric("latency_first_ms", "ms", "latency", "first (cold) call, ms", "first call (ms)", "first ms"),
    Metric("latency_p25_ms", "ms", "latency", "25th percentile latency per call, ms", "latency p25 (ms)", "p25 ms",
           percentile=25.0),
    Metric("latency_p50_ms", "ms", "latency", "median latency per call, ms", "latency p50 (ms)", "p50 ms", _MIN,
           ".3f", summary=True, interval=("latency_p50_ci_low_ms", "latency_p50_ci_high_ms"), percentile=50.0),
    Metric("latency_p75_ms", "ms", "latency", "75th percentile latency per call, ms", "latency p75 (ms)", "p75 ms",
           percentile=75.0),
    Metric("latency_p90_ms", "ms", "latency", "90th percentile latency per call, ms", "latency p90 (ms)", "p90 ms",
           _MIN, ".3f", interval=("latency_p90_ci_low_ms", "latency_p90_ci_high_ms"), percentile=90.0),
    Metric("latency_p95_ms", "ms", "latency", "95th percentile latency per call, ms", "latency p95 (ms)", "p95 ms",
           _MIN, ".3f", percentile=95.0),
    Metric("latency_p99_ms", "ms", "latency", "99th percentile latency per call, ms", "latency p99 (ms)", "p99 ms",
           _MIN, ".3f", summary=True, interval=("latency_p99_ci_low_ms", "latency_p99_ci_high_ms"), percentile=99.0),
    Metric("latency_mean_ms", "ms", "latency", "mean latency per call, ms", "latency mean (ms)", "mean ms", _MIN,
           ".3f"),
    Metric("latency_std_ms", "ms", "latency", "standard deviation of latency, ms", "latency stdev (ms)", "stdev ms"),
    Metric("latency_count", "calls", "count", "timed calls", "timed calls", "calls", fmt="d", integer=True),
    Metric("timing_seconds", "s", "timing", "wall time of the timed loop, s", "timed seconds", "timed s"),
    Metric("throughput_ips", "inputs/s", "rate", "inputs (images or texts) per second at the run's batch",
           "throughput (inputs/s)", "inputs/s", _MAX, ".0f", summary=True),
    Metric("top1", "%", "accuracy", "top-1 accuracy, %", "top-1 (%)", "top-1 %", _MAX, ".2f", summary=True,
           interval=("top1_ci_low", "top1_ci_high")),
    Metric("top1_ci_low", "%", "interval", "top-1 95% CI low, %", "top-1 95% CI low (%)", "top-1 low %"),
    Metric("top1_ci_high", "%", "interval", "top-1 95% CI high, %", "top-1 95% CI high (%)", "top-1 high %"),
    Metric("top5", "%", "accuracy", "top-5 accuracy, %", "top-5 (%)", "top-5 %", _MAX, ".2f",
           interval=("top5_ci_low", "top5_ci_high")),
    Metric("top5_ci_low", "%", "interval", "top-5 95% CI low, %", "top-5 95% CI low (%)", "top-5 low %"),
    Metric("top5_ci_high", "%", "interval", "top-5 95% CI high, %", "top-5 95% CI high (%)", "top-5 high %"),
    Metric("eval_samples", "inputs", "count", "inputs (images or texts) scored for accuracy", "inputs scored", "inputs",
           fmt="d", integer=True),
    Metric("agreement", "%", "accuracy", "top-1 agreement with the FP32 reference, %", "agreement with FP32 (%)",
           "agreement %", _MAX, ".2f", summary=True, interval=("agreement_ci_low", "agreement_ci_high")),
    Metric("agreement_ci_low", "%", "interval", "agreement 95% CI low, %", "agreement 95% CI low (%)",
           "agreement low %"),
    Metric("agreement_ci_high", "%", "interval", "agreement 95% CI high, %", "agreement 95% CI high (%)",
           "agreement high %"),
    Metric("logit_cosine", "", "accuracy", "mean logit cosine with the FP32 reference", "logit cosine with FP32",
           "cosine", _MAX),
    Metric("size_mb", "MB", "size", "serialized model size, MB", "size (MB)", "size MB", _MIN, ".3f", summary=True),
    Metric("peak_mem_mb", "MB", "size", "peak resident memory during evaluation, MB", "peak memory (MB)", "memory MB",
           _MIN, ".0f"),
    # since schema 3: serving scenarios and the response cache
    Metric("latency_p999_ms", "ms", "latency", "99.9th percentile latency per request, ms", "latency p99.9 (ms)",
           "p99.9 ms", _MIN, ".3f", since=3, percentile=99.9),
    Metric("achieved_rate_rps", "requests/s", "rate", "requests answered per second", "achieved rate (requests/s)",
           "requests/s", _MAX, ".0f", since=3, summary=True),
    Metric("target_rate_rps", "requests/s", "serving", "server scenario: target arrival rate, requests/s",
           "target rate (requests/s)", "target /s", since=3),
    Metric("over_bound_pct", "%", "serving", "server scenario: requests over the latency bound (dropped ones "
           "included), %", "requests over the latency bound (%)", "over bound %", _MIN, ".1f", since=3),
    Metric("mean_batch_requests", "requests", "serving", "server scenario: mean requests per model call (dynamic "
           "batching)", "requests per call", "per call", since=3),
    Metric("cache_hit_pct", "%", "cache", "response cache: requests answered from the cache, %", "cache hits (%)",
           "cache hits %", fmt=".1f", since=3, summary=True),
    Metric("cache_hit_p50_ms", "ms", "cache", "response cache: median latency of hits, ms", "cache hit p50 (ms)",
           "hit p50 ms", since=3),
    Metric("cache_miss_p50_ms", "ms", "cache", "response cache: median latency of misses, ms", "cache miss p50 (ms)",
           "miss p50 ms", since=3),
    # since schema 6: distribution-free 95% intervals of the percentiles, and what else the machine did
    *(Metric(f"latency_p{q}_ci_{end}_ms", "ms", "interval", f"latency p{q} 95% interval {end}, ms (order statistics)",
             f"latency p{q} 95% interval {end} (ms)", f"p{q} {end} ms", fmt=".3f", since=6)
      for q in (50, 90, 99) for end in ("low", "high")),
    Metric("other_cpu_pct", "% of a core", "contention", "CPU used by other processes while timing, % of one core",
           "other processes' CPU while timing (% of a core)", "others' CPU %", fmt=".0f", since=6),
    Metric("steal_pct", "% of a core", "contention", "CPU time the hypervisor gave to other guests while timing, % of "
           "one core", "steal while timing (% of a core)", "steal %", fmt=".0f", since=6),
    Metric("load_avg_1m", "", "contention", "1-minute load average at the end of timing", "load average (1 min)",
           "load", fmt=".2f", since=6),
    Metric("cpu_mhz", "MHz", "contention", "CPU frequency at the end of timing, MHz (where readable)", "CPU MHz",
           "MHz", fmt=".0f", since=6),
    # since schema 12: a text run's inputs (None for images)
    Metric("tokens_per_s", "tokens/s", "rate", "text runs: real tokens per second (padding left out), the "
           "throughput times the mean tokens a text is run with", "tokens/s (padding left out)", "tokens/s", _MAX,
           ".0f", since=12, summary=True),
    Metric("tokens_mean", "tokens", "count", "text runs: mean tokens per text after truncation to the max length",
           "tokens per text (mean)", "tokens/text", fmt=".1f", since=12),
    Metric("padding_pct", "%", "count", "text runs: share of the tokens run that were padding, at the run's batch "
           "and padding", "padding (% of tokens run)", "padding %", fmt=".1f", since=12),
)
CATALOGUE: dict[str, Metric] = {m.name: m for m in METRICS_IN_ORDER}
assert len(CATALOGUE) == len(METRICS_IN_ORDER), "a metric is listed twice"

# What the rest of the house reads from the catalogue.
OBJECTIVES: dict[str, Metric] = {m.name: m for m in METRICS_IN_ORDER if m.direction is not None}
LATENCY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.group == "latency" and m.direction is not None)
ACCURACY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.group == "accuracy" and m.unit == "%")
SUMMARY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.summary)
PERCENTILE_METRICS: dict[str, float] = {m.name: m.percentile for m in METRICS_IN_ORDER if m.percentile is not None}
DEFAULT_LATENCY, DEFAULT_ACCURACY = "latency_p50_ms", "top1"  # the front's axes unless the user picks others


def added_in(version: int) -> tuple[str, ...]:
    """The metrics whose store columns schema `version` added (for migrations)."""
    return tuple(m.name for m in METRICS_IN_ORDER if m.since == version)
