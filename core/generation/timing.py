"""Generation timed with the run's protocol (`core.bench.timing.TimingConfig`): a cold first generation apart,
warm-up, then timed generations until a count and a duration are both met. Each generation is stamped token by
token: time to first token (the prompt's prefill and one token), the gaps between the tokens after it
(inter-token latency, every gap of every timed generation), end-to-end latency and tokens per second.

Concurrent streams (`Streams`) are the concurrent scenario's clients (`core.scenarios`), each generating back to back
on one shared instance of the configuration or on its own: every stream's tokens count in tokens/s, and every
stream's stamps in TTFT and inter-token latency, so what one stream pays for the others' shows."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.bench.percentiles import percentile_interval, supported
from core.bench.timing import LatencyStats, TimingConfig, measure
from core.generation.decoding import Decoder
from core.progress import Progress, no_progress

# The percentiles a generation run reports of each distribution (the catalogue holds their columns and intervals).
REPORTED = {"ttft": (50.0, 90.0), "itl": (50.0, 90.0, 99.0)}


@dataclass(frozen=True)
class GenerationTiming:
    """The timed generations of one configuration: `stats` per generation, end to end (the run's latency), and
    the stamps inside each, in milliseconds."""

    stats: LatencyStats
    ttft_ms: tuple[float, ...]       # per timed generation
    itl_ms: tuple[float, ...]        # every gap between consecutive tokens
    new_tokens: int

    @property
    def e2e_ms(self) -> tuple[float, ...]:
        return self.stats.samples_ms

    @property
    def tokens_per_s(self) -> float:
        """New tokens per second over the timed loop's wall time (every stream's tokens)."""
        return self.stats.batch * self.new_tokens * self.stats.count / self.stats.wall_seconds

    def metrics(self) -> dict[str, float | int | None]:
        """TTFT and inter-token percentiles with 95% intervals (a tail only where its sample count supports it),
        generated tokens/s and the counts behind them (the end-to-end distribution is the run's latency)."""
        out: dict[str, float | int | None] = {"generated_tokens_per_s": self.tokens_per_s,
                                              "new_tokens": self.new_tokens}
        for name, samples in (("ttft", self.ttft_ms), ("itl", self.itl_ms)):
            for q in REPORTED[name]:
                ok = supported(q, len(samples))
                interval = percentile_interval(samples, q) if ok else None
                out[f"{name}_p{q:g}_ms"] = float(np.percentile(samples, q)) if ok else None
                out[f"{name}_p{q:g}_ci_low_ms"], out[f"{name}_p{q:g}_ci_high_ms"] = interval or (None, None)
        return out


def prompt_batches(prompts: np.ndarray, batch: int) -> list[np.ndarray]:
    """The prompts in whole batches of `batch` rows (a last partial batch left out: every call does the same work)."""
    batches = [np.ascontiguousarray(prompts[i:i + batch]) for i in range(0, len(prompts) - batch + 1, batch)]
    if not batches:
        raise ValueError(f"{len(prompts)} prompt(s) cannot fill a batch of {batch}")
    return batches


def time_generation(decoder: Decoder, prompts: np.ndarray, new_tokens: int, config: TimingConfig,
                    batch: int = 1, progress: Progress = no_progress) -> GenerationTiming:
    """Time greedy generations of `new_tokens` after batches of `prompts` (rows of equal length, cycled in order)
    with the run's protocol (`core.bench.timing.measure`); preparing each batch stays outside the clock."""
    batches = prompt_batches(prompts, batch)
    stamps: list[tuple[int, ...]] = []  # every generation's, the cold one and the warm-up's included

    def generate(prompt: np.ndarray) -> None:
        stamps.append(decoder.generate(prompt, new_tokens, time.perf_counter_ns).stamps_ns)

    stats = measure(generate, None, config, batch, progress, next_input=lambda i: batches[i % len(batches)])
    timed = [np.asarray(s, dtype=np.float64) / 1e6 for s in stamps[len(stamps) - stats.count:]]
    return GenerationTiming(stats, tuple(float(s[0]) for s in timed),
                            tuple(float(gap) for s in timed for gap in np.diff(s)), new_tokens)


@dataclass(frozen=True)
class Streams:
    """Concurrent streams: `clients` callers each generating back to back, sharing `sessions` instances of the
    configuration round-robin, for at most `requests` generations in all (the concurrent scenario's settings)."""

    clients: int
    sessions: int
    requests: int


class _Generating:
    """A decoder as a load scenario's predictor: a request is a batch of prompts and a call one greedy generation,
    whose token stamps are kept (in the order the generations ended)."""

    def __init__(self, decoder: Decoder, new_tokens: int, stamps: list[tuple[int, ...]], lock: threading.Lock) -> None:
        self.decoder, self.new_tokens, self.stamps, self.lock = decoder, new_tokens, stamps, lock
        self.engine, self.notes, self.settings = decoder.engine, [], {}

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        return batch

    def run(self, batch: np.ndarray) -> None:
        stamps = self.decoder.generate(batch, self.new_tokens, time.perf_counter_ns).stamps_ns
        with self.lock:
            self.stamps.append(stamps)


def time_streams(decoder: Decoder, fresh: Callable[[], Decoder], prompts: np.ndarray, new_tokens: int,
                 config: TimingConfig, streams: Streams, batch: int = 1,
                 progress: Progress = no_progress) -> tuple[GenerationTiming, dict[str, Any]]:
    """Time `streams` concurrent clients generating (the concurrent scenario's runner, `core.scenarios`):
    `decoder` is the first instance and `fresh()` makes each further one. Returns the timing of every timed
    generation of every stream, and what the load did."""
    from core.errors import MeasurementError
    from core.scenarios import ConcurrentConfig, QueryStream
    from core.scenarios.runners import LoadContext, run_concurrent

    batches = prompt_batches(prompts, batch)
    stamps: list[tuple[int, ...]] = []  # warm-up generations first (every instance's), then the timed ones
    lock = threading.Lock()
    ctx = LoadContext(_Generating(decoder, new_tokens, stamps, lock),
                      lambda: _Generating(fresh(), new_tokens, stamps, lock), batches,
                      QueryStream(len(batches)), config, batch, progress)
    result = run_concurrent(ctx, ConcurrentConfig(streams.clients, streams.sessions, streams.requests))
    if not result.completed:
        raise MeasurementError("no generation completed within the timing protocol's max seconds; raise them")
    timed = [np.asarray(s, dtype=np.float64) / 1e6 for s in stamps[len(stamps) - result.completed:]]
    stats = LatencyStats(result.first_ms, tuple(result.samples_ms), result.wall_seconds, batch)
    timing = GenerationTiming(stats, tuple(float(s[0]) for s in timed),
                              tuple(float(gap) for s in timed for gap in np.diff(s)), new_tokens)
    return timing, {"scenario": "concurrent", **result.load}
