"""Latency measurement: first call apart, warm-up, then repeat until both a count and a duration are met."""
from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.bench.percentiles import TAILS, min_samples, percentile_interval, supported
from core.errors import ConfigError
from core.metrics import CATALOGUE, PERCENTILE_METRICS
from core.options import option
from core.progress import Progress, no_progress


@dataclass(frozen=True)
class TimingConfig:
    """The timing protocol of a run: warm-up, then timed calls until a count and a duration are both met."""

    warmup: int = option(10, "untimed calls after the first call", minimum=0, maximum=10_000, label="warm-up calls")
    # By time as well as by count: what a fresh process still settles after ten calls (thread pools waking,
    # allocator arenas, caches, the CPU clock) settles in wall time, not in calls.
    warmup_seconds: float = option(0.3, "and keep warming up for at least this long, s", minimum=0.0, maximum=600.0,
                                   label="warm-up seconds at least")
    min_repeats: int = option(50, "timed calls at least", minimum=1, maximum=1_000_000, label="timed calls at least")
    min_seconds: float = option(2.0, "timed seconds at least", minimum=0.0, maximum=3600.0,
                                label="timed seconds at least")
    max_seconds: float = option(60.0, "stop timing after this long even if min_repeats is not reached",
                                minimum=0.1, maximum=36_000.0, label="timed seconds at most")
    tail: str | None = option(None, "time until this tail percentile is supported (MLPerf's early-stopping count: "
                                    "64 calls for p90, 662 for p99), within the timed seconds at most",
                              choices=tuple(TAILS), label="tail percentile to support",
                              none_label="none (timed calls at least)")

    def __post_init__(self) -> None:
        if self.min_seconds > self.max_seconds:
            raise ConfigError(f"timed seconds at least ({self.min_seconds:g}) is above timed seconds at most "
                              f"({self.max_seconds:g}): timing stops at the most, so raise it or lower the least")

    def warming(self, calls: int, elapsed_ns: int) -> bool:
        """True while the warm-up has made fewer than `warmup` calls or run for less than `warmup_seconds`."""
        return calls < self.warmup or elapsed_ns < self.warmup_seconds * 1e9

    @property
    def required_calls(self) -> int:
        """Timed calls the protocol asks for: min_repeats, or more when a tail percentile must be supported."""
        return max(self.min_repeats, min_samples(TAILS[self.tail]) if self.tail else 0)


@dataclass(frozen=True)
class LatencyStats:
    """Per-call latency in milliseconds, with the raw samples kept."""

    first_ms: float
    samples_ms: tuple[float, ...]
    wall_seconds: float
    batch: int

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.samples_ms, q))

    @property
    def count(self) -> int:
        return len(self.samples_ms)

    @property
    def mean_ms(self) -> float:
        return float(np.mean(self.samples_ms))

    @property
    def std_ms(self) -> float:
        return float(np.std(self.samples_ms, ddof=1)) if self.count > 1 else 0.0

    @property
    def throughput_ips(self) -> float:
        """Images per second over the timed loop's wall time (harness included: what a caller gets)."""
        return self.batch * self.count / self.wall_seconds if self.wall_seconds > 0 else float("nan")


def measure(call: Callable[[Any], Any], native: Any, config: TimingConfig, batch: int,
            progress: Progress = no_progress, first_ms: float | None = None,
            next_input: Callable[[int], Any] | None = None) -> LatencyStats:
    """Time `call(native)`.

    `first_ms`: the cold first call when the caller already made it (e.g. before an accuracy pass);
    otherwise the first call here is timed and recorded apart from the samples.
    `next_input(i)`, when given, supplies the i-th call's input instead of `native` (outside the clock).
    """
    clock = time.perf_counter_ns
    calls = 0

    def argument() -> Any:
        nonlocal calls
        calls += 1
        return native if next_input is None else next_input(calls - 1)

    if first_ms is None:
        native_in = argument()
        start = clock()
        call(native_in)
        first_ms = (clock() - start) / 1e6
    warm_start, warm_calls = clock(), 0
    while config.warming(warm_calls, clock() - warm_start):
        call(argument())
        warm_calls += 1
    samples: list[int] = []
    min_ns, max_ns = int(config.min_seconds * 1e9), int(config.max_seconds * 1e9)
    loop_start = clock()
    elapsed = 0
    next_report = loop_start
    required = config.required_calls
    while len(samples) < required or elapsed < min_ns:
        native_in = argument()
        start = clock()
        call(native_in)
        end = clock()
        samples.append(end - start)
        elapsed = end - loop_start
        if elapsed >= max_ns:
            break
        if end >= next_report:  # report at most ~10 times a second: progress must not cost time
            done = min(len(samples) / required, elapsed / min_ns if min_ns else 1.0)
            progress("time", min(1.0, done))
            next_report = end + 100_000_000
    wall = (clock() - loop_start) / 1e9
    progress("time", 1.0)
    return LatencyStats(first_ms, tuple(s / 1e6 for s in samples), wall, batch)


MIN_BLOCK_CALLS = 10


def time_block(call: Callable[[Any], Any], natives: Sequence[Any], block_ms: float, warmup_ms: float,
               min_calls: int = MIN_BLOCK_CALLS) -> float:
    """One block of a paired re-measurement: `warmup_ms` of untimed calls, then timed calls for `block_ms`
    (at least `min_calls`), cycling the prepared inputs; returns the block's median latency, ms."""
    clock = time.perf_counter_ns
    until, i = clock() + int(warmup_ms * 1e6), 0
    while clock() < until:  # by time, not count: what settles (thread pools, caches, clocks) is time-bound
        call(natives[i % len(natives)])
        i += 1
    samples: list[int] = []
    until = clock() + int(block_ms * 1e6)
    while len(samples) < min_calls or clock() < until:
        native = natives[len(samples) % len(natives)]
        start = clock()
        call(native)
        samples.append(clock() - start)
    return float(np.median(samples)) / 1e6


def latency_figures(stats: LatencyStats) -> dict[str, Any]:
    """The catalogue's latency metrics of timed calls: the cold first call, each percentile the sample count supports
    (a tail it does not support is None: `tail_notes` says why) with its 95% interval, mean, spread, count, wall time
    and throughput."""
    return {"latency_first_ms": stats.first_ms,
            **{name: stats.percentile(q) if supported(q, stats.count) else None
               for name, q in PERCENTILE_METRICS.items()},
            **interval_metrics(stats.samples_ms),
            "latency_mean_ms": stats.mean_ms, "latency_std_ms": stats.std_ms, "latency_count": stats.count,
            "timing_seconds": stats.wall_seconds, "throughput_ips": stats.throughput_ips}


def interval_metrics(samples_ms: Sequence[float]) -> dict[str, float | None]:
    """The 95% intervals the catalogue stores (p50, p90, p99), None where the samples cannot give one."""
    out: dict[str, float | None] = {}
    for name, q in PERCENTILE_METRICS.items():
        low, high = CATALOGUE[name].interval or (None, None)
        if low is None:
            continue
        interval = percentile_interval(samples_ms, q) if supported(q, len(samples_ms)) else None
        out[low], out[high] = interval or (None, None)
    return out


def tail_notes(count: int, calls: str = "timed calls") -> list[str]:
    """Why tail percentiles are missing: the timed calls each would need."""
    missing = [(q, min_samples(q)) for q in PERCENTILE_METRICS.values() if not supported(q, count)]
    if not missing:
        return []
    needs = ", ".join(f"p{q:g} {n}" for q, n in missing)
    return [f"tail latency not reported: {count} {calls} are too few (MLPerf's early-stopping rule needs "
            f"{needs}); raise the timed calls or set the timing protocol's tail percentile"]
