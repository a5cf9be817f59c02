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
    # since schema 13: text generation (a call is one greedy generation of the run's new tokens after each prompt)
    Metric("generated_tokens_per_s", "tokens/s", "rate", "text generation: new tokens per second over the timed "
           "generations (every prompt of a batch counted)", "generated tokens/s", "gen tokens/s", _MAX, ".0f",
           since=13, summary=True),
    *(Metric(f"{name}_p{q}_ms", "ms", "latency", f"text generation: {words}, p{q}, ms", f"{short} p{q} (ms)",
             f"{short} p{q} ms", _MIN, ".3f", since=13, summary=(name, q) == ("itl", 50),
             interval=(f"{name}_p{q}_ci_low_ms", f"{name}_p{q}_ci_high_ms"))
      for name, words, short, qs in (("ttft", "time to first token (the prompt's prefill and one token)", "TTFT",
                                      (50, 90)),
                                     ("itl", "inter-token latency (each gap between new tokens)", "inter-token",
                                      (50, 90, 99)))
      for q in qs),
    *(Metric(f"{name}_p{q}_ci_{end}_ms", "ms", "interval", f"{short} p{q} 95% interval {end}, ms (order statistics)",
             f"{short} p{q} 95% interval {end} (ms)", f"{short} p{q} {end} ms", fmt=".3f", since=13)
      for name, short, qs in (("ttft", "TTFT", (50, 90)), ("itl", "inter-token", (50, 90, 99)))
      for q in qs for end in ("low", "high")),
    Metric("perplexity", "", "accuracy", "text generation: perplexity on the held-out windows (lower is better)",
           "perplexity", "ppl", _MIN, ".3f", since=13, summary=True,
           interval=("perplexity_ci_low", "perplexity_ci_high")),
    Metric("perplexity_ci_low", "", "interval", "perplexity 95% interval low (texts resampled)",
           "perplexity 95% interval low", "ppl low", fmt=".3f", since=13),
    Metric("perplexity_ci_high", "", "interval", "perplexity 95% interval high (texts resampled)",
           "perplexity 95% interval high", "ppl high", fmt=".3f", since=13),
    Metric("next_token_top1", "%", "accuracy", "text generation: next-token top-1 on the held-out windows, %",
           "next-token top-1 (%)", "next top-1 %", _MAX, ".2f", since=13,
           interval=("next_token_top1_ci_low", "next_token_top1_ci_high")),
    Metric("next_token_top1_ci_low", "%", "interval", "next-token top-1 95% interval low, %",
           "next-token top-1 95% interval low (%)", "next top-1 low %", fmt=".2f", since=13),
    Metric("next_token_top1_ci_high", "%", "interval", "next-token top-1 95% interval high, %",
           "next-token top-1 95% interval high (%)", "next top-1 high %", fmt=".2f", since=13),
    Metric("kl_mean", "nats", "accuracy", "text generation: mean KL divergence of the next-token distribution from "
           "FP32's, per token", "KL from FP32 (nats/token)", "KL", _MIN, ".2e", since=13),
    Metric("greedy_agreement", "%", "accuracy", "text generation: share of FP32's greedy continuation tokens repeated "
           "at the same positions, %", "greedy tokens as FP32 (%)", "greedy same %", _MAX, ".1f", since=13,
           summary=True, interval=("greedy_agreement_ci_low", "greedy_agreement_ci_high")),
    Metric("greedy_agreement_ci_low", "%", "interval", "greedy agreement 95% interval low, %",
           "greedy agreement 95% interval low (%)", "greedy low %", fmt=".1f", since=13),
    Metric("greedy_agreement_ci_high", "%", "interval", "greedy agreement 95% interval high, %",
           "greedy agreement 95% interval high (%)", "greedy high %", fmt=".1f", since=13),
    Metric("greedy_prefix_tokens", "tokens", "count", "text generation: mean tokens generated before the first that "
           "differs from FP32's", "tokens before the first difference", "same prefix", fmt=".1f", since=13),
    Metric("eval_tokens", "tokens", "count", "text generation: tokens scored for perplexity", "tokens scored",
           "tokens scored", fmt="d", integer=True, since=13),
    Metric("prompt_tokens", "tokens", "count", "text generation: tokens in each prompt", "prompt tokens", "prompt",
           fmt="d", integer=True, since=13),
    Metric("new_tokens", "tokens", "count", "text generation: tokens generated after each prompt", "new tokens",
           "new", fmt="d", integer=True, since=13),
)
CATALOGUE: dict[str, Metric] = {m.name: m for m in METRICS_IN_ORDER}
assert len(CATALOGUE) == len(METRICS_IN_ORDER), "a metric is listed twice"

# What the rest of the house reads from the catalogue.
OBJECTIVES: dict[str, Metric] = {m.name: m for m in METRICS_IN_ORDER if m.direction is not None}
LATENCY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.group == "latency" and m.direction is not None)
# the latencies of a whole call (per image when divided by its batch); text generation's TTFT and inter-token latency
# time parts of a call (its first token, the gaps between tokens), so they are neither
PER_CALL_METRICS = tuple(name for name in LATENCY_METRICS if name.startswith("latency_"))
# what a front's speed axis may be: a latency, or a rate (images, texts or generated tokens per second)
SPEED_METRICS = (*LATENCY_METRICS, *(m.name for m in METRICS_IN_ORDER if m.group == "rate"))
ACCURACY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.group == "accuracy" and m.unit == "%")
# every objective of quality, percentages or not (perplexity, KL): what a front's quality axis may be
QUALITY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.group == "accuracy" and m.direction is not None)
SUMMARY_METRICS = tuple(m.name for m in METRICS_IN_ORDER if m.summary)
PERCENTILE_METRICS: dict[str, float] = {m.name: m.percentile for m in METRICS_IN_ORDER if m.percentile is not None}
DEFAULT_LATENCY, DEFAULT_ACCURACY = "latency_p50_ms", "top1"  # the front's axes unless the user picks others


def added_in(version: int) -> tuple[str, ...]:
    """The metrics whose store columns schema `version` added (for migrations)."""
    return tuple(m.name for m in METRICS_IN_ORDER if m.since == version)
