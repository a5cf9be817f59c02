"""Scenario runners: each applies one load pattern to a predictor and returns per-request latencies.

A request is one batch of the run's batch size, drawn from the subset by the query stream. Latency
is per request: for single-stream, offline and concurrent it is the model call (plus input
conversion for offline); for server it runs from the moment the request was issued until its
result is back, so queueing and batch assembly count.
"""
from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from core.bench.timing import TimingConfig, measure
from core.progress import Progress, no_progress
from core.runtimes import CachedPredictor, Predictor
from core.scenarios.configs import (
    ConcurrentConfig,
    OfflineConfig,
    ServerConfig,
    SingleStreamConfig,
)
from core.scenarios.load import PREPARED_POOL_BYTES, QueryStream, arrival_times

clock = time.perf_counter_ns
REPORT_EVERY_NS = 100_000_000  # progress at most ten times a second: it must not cost time


@dataclass
class LoadContext:
    """What every scenario gets: the predictor, the requests it may send, and the timing bounds."""

    predictor: Predictor
    new_session: Callable[[], Predictor]     # another instance of the same configuration (shares the cache)
    pool: list[np.ndarray]                   # the distinct requests (raw float32 batches)
    stream: QueryStream                      # which pool entry the i-th request sends
    timing: TimingConfig
    batch: int                               # images per request
    progress: Progress = no_progress
    first_ms: float | None = None            # the cold first call, when the caller already made it


@dataclass
class ScenarioResult:
    samples_ms: list[float]                  # one per completed timed request
    wall_seconds: float                      # from the first timed request to the last completion
    first_ms: float
    hits: list[bool] | None = None           # per sample: answered from the response cache
    metrics: dict[str, Any] = field(default_factory=dict)   # scenario-specific metric columns
    load: dict[str, Any] = field(default_factory=dict)      # what the load generator did

    @property
    def completed(self) -> int:
        return len(self.samples_ms)


def _hit(output: Any) -> bool | None:
    return getattr(output, "cache_hit", None)


def _cached(predictor: Predictor) -> bool:
    return isinstance(predictor, CachedPredictor)


class _PreparedPool:
    """Native inputs prepared once per pool entry while they fit in memory, else on each use."""

    def __init__(self, predictor: Predictor, pool: list[np.ndarray]) -> None:
        self.predictor, self.pool = predictor, pool
        self.keep = len(pool) * pool[0].nbytes <= PREPARED_POOL_BYTES
        self._natives: dict[int, Any] = {}

    def __getitem__(self, index: int) -> Any:
        if not self.keep:
            return self.predictor.prepare(self.pool[index])
        if index not in self._natives:
            self._natives[index] = self.predictor.prepare(self.pool[index])
        return self._natives[index]


def _warm_up(predictor: Predictor, ctx: LoadContext) -> tuple[float, int]:
    """The cold first call (unless already made) and the warm-up calls; returns (first_ms, next stream index)."""
    index, first_ms = 0, ctx.first_ms
    if first_ms is None:
        native = predictor.prepare(ctx.pool[ctx.stream[0]])
        start = clock()
        predictor.run(native)
        first_ms, index = (clock() - start) / 1e6, 1
    warm_start, warm_calls = clock(), 0
    while ctx.timing.warming(warm_calls, clock() - warm_start):
        predictor.run(predictor.prepare(ctx.pool[ctx.stream[index]]))
        index, warm_calls = index + 1, warm_calls + 1
    return first_ms, index


def _serve(predictor: Predictor, requests: list[np.ndarray]) -> list[bool | None]:
    """One server call for a group of requests; results leave as numpy arrays, like a real server's."""
    if _cached(predictor):
        return predictor.run_many(requests)
    merged = requests[0] if len(requests) == 1 else np.concatenate(requests)
    predictor.to_numpy(predictor.run(predictor.prepare(merged)))
    return [None] * len(requests)


def run_single_stream(ctx: LoadContext, config: SingleStreamConfig) -> ScenarioResult:
    """Requests back to back from one caller, inputs prepared outside the clock (the timing protocol)."""
    predictor, prepared = ctx.predictor, _PreparedPool(ctx.predictor, ctx.pool)
    hits: list[bool | None] = []

    def call(native: Any) -> None:
        hits.append(_hit(predictor.run(native)))

    stats = measure(call, None, ctx.timing, ctx.batch, ctx.progress, first_ms=ctx.first_ms,
                    next_input=lambda i: prepared[ctx.stream[i]])
    timed_hits = hits[len(hits) - stats.count:]
    return ScenarioResult(list(stats.samples_ms), stats.wall_seconds, stats.first_ms,
                          timed_hits if _cached(predictor) else None, load={"requests_sent": stats.count})


def _run_threads(workers: list[threading.Thread], stop: threading.Event, report: Callable[[], None]) -> None:
    """Start `workers`, report progress while they run; on any exception (e.g. a cancel) stop them first."""
    for worker in workers:
        worker.start()
    try:
        while any(w.is_alive() for w in workers):
            workers[0].join(timeout=0.1)
            report()
    finally:
        stop.set()
        for worker in workers:
            worker.join()


class _Failure:
    """The first exception raised in a worker thread, re-raised in the caller's."""

    def __init__(self) -> None:
        self.error: BaseException | None = None

    def guard(self, target: Callable[[], None], stop: threading.Event) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread, not swallowed
                self.error = self.error or exc
                stop.set()
        return run

    def raise_if_any(self) -> None:
        if self.error is not None:
            raise self.error


def _bounded_workers(count: int, ctx: LoadContext, sessions: list[Predictor], limit: int | None,
                     time_done: Callable[[int, int], bool], include_prepare: bool) -> ScenarioResult:
    """`count` threads that each send their next request as soon as the last returns.

    Stops after `limit` requests (None: no count bound) or when `time_done(completed, elapsed_ns)`.
    """
    first_ms, offset = _warm_up(sessions[0], ctx)
    for session in sessions[1:]:  # every instance is warmed; only the first one's cold call is the run's
        _warm_up(session, replace(ctx, first_ms=None))
    counter, lock = itertools.count(), threading.Lock()
    results: list[tuple[int, float, bool | None]] = []
    stop, failure = threading.Event(), _Failure()
    start = clock()

    def client(session: Predictor) -> None:
        while not stop.is_set():
            with lock:
                i = next(counter)
            elapsed = clock() - start
            if (limit is not None and i >= limit) or time_done(len(results), elapsed):
                return
            raw = ctx.pool[ctx.stream[offset + i]]
            if include_prepare:
                begin = clock()
                output = session.run(session.prepare(raw))
            else:
                native = session.prepare(raw)
                begin = clock()
                output = session.run(native)
            end = clock()
            with lock:
                results.append((i, (end - begin) / 1e6, _hit(output)))

    workers = [threading.Thread(target=failure.guard(lambda s=sessions[c % len(sessions)]: client(s), stop),
                                daemon=True) for c in range(count)]
    last = [0]

    def report() -> None:
        if clock() - last[0] > REPORT_EVERY_NS:
            last[0] = clock()
            done = len(results) / limit if limit else (clock() - start) / max(1, ctx.timing.min_seconds * 1e9)
            ctx.progress("time", min(1.0, done))

    _run_threads(workers, stop, report)
    wall = (clock() - start) / 1e9
    failure.raise_if_any()
    ctx.progress("time", 1.0)
    results.sort()
    cached = any(_cached(s) for s in sessions)
    return ScenarioResult([r[1] for r in results], wall, first_ms, [bool(r[2]) for r in results] if cached else None)


def run_offline(ctx: LoadContext, config: OfflineConfig) -> ScenarioResult:
    """All requests available at once, sent as fast as `workers` threads can: throughput first.

    Input conversion counts (it is part of the pipeline's throughput); bounds are the timing protocol's.
    """
    timing = ctx.timing

    def time_done(completed: int, elapsed_ns: int) -> bool:
        return elapsed_ns >= timing.max_seconds * 1e9 or (
            completed >= timing.required_calls and elapsed_ns >= timing.min_seconds * 1e9)

    result = _bounded_workers(config.workers, ctx, [ctx.predictor], None, time_done, include_prepare=True)
    result.load = {"workers": config.workers, "requests_sent": result.completed}
    return result


def run_concurrent(ctx: LoadContext, config: ConcurrentConfig) -> ScenarioResult:
    """N clients, each sending back to back, to one shared session or K instances round-robin."""
    sessions = [ctx.predictor] + [ctx.new_session() for _ in range(config.sessions - 1)]
    max_ns = ctx.timing.max_seconds * 1e9
    result = _bounded_workers(config.clients, ctx, sessions, config.requests,
                              lambda completed, elapsed_ns: elapsed_ns >= max_ns, include_prepare=False)
    result.load = {"clients": config.clients, "sessions": config.sessions, "requests_sent": result.completed,
                   "stopped_by_time": result.completed < config.requests}
    return result


def run_server(ctx: LoadContext, config: ServerConfig) -> ScenarioResult:
    """Poisson arrivals at `rate` served in arrival order by one server, in real time, in this thread.

    The server takes every request that has arrived when it is free (up to `max_batch`; with
    batching it waits for more until the first one has waited `max_queue_delay_ms`). A request's
    latency runs from its arrival to its result, so queueing and batch assembly count; when the
    server was idle and woke for a request, from the wake-up (the host's sleep overshoot is not the
    model's). No hand-off between threads: on a small CPU a generator thread would steal the cores
    it measures. Arrivals after the timing protocol's max seconds are not sent; requests still
    waiting then are dropped and counted as over the latency bound.
    """
    predictor = ctx.predictor
    first_ms, offset = _warm_up(predictor, ctx)
    arrivals = arrival_times(config.rate, config.requests, config.seed)
    start = clock() + 1_000_000  # a millisecond's lead so the first arrival is not already late
    deadline = start + int(ctx.timing.max_seconds * 1e9)
    arrive_ns = start + (arrivals * 1e9).astype(np.int64)
    sent = int(np.searchsorted(arrive_ns, deadline, side="right"))
    origin_ns, done_ns = arrive_ns[:sent].copy(), np.zeros(sent, dtype=np.int64)
    hits: list[bool | None] = [None] * sent
    batch_sizes: list[int] = []
    delay_ns = int(config.max_queue_delay_ms * 1e6)
    i, next_report = 0, start
    while i < sent:
        now = clock()
        if now > deadline:
            break
        if arrive_ns[i] > now:
            _sleep_until(arrive_ns[i])
            now = origin_ns[i] = clock()
        end_of_group = min(i + config.max_batch, sent)
        if config.max_batch > 1 and arrive_ns[end_of_group - 1] > now:
            _sleep_until(min(arrive_ns[i] + delay_ns, arrive_ns[end_of_group - 1]))
            now = clock()
        group = range(i, min(end_of_group, int(np.searchsorted(arrive_ns, now, side="right"))))
        answered = _serve(predictor, [ctx.pool[ctx.stream[offset + k]] for k in group])
        done_ns[group.start:group.stop] = clock()
        hits[group.start:group.stop] = answered
        batch_sizes.append(len(group))
        i = group.stop
        if done_ns[i - 1] >= next_report:
            ctx.progress("time", i / len(arrivals))
            next_report = done_ns[i - 1] + REPORT_EVERY_NS
    ctx.progress("time", 1.0)

    served = i
    latencies = (done_ns[:served] - origin_ns[:served]) / 1e6
    wall = (done_ns[served - 1] - arrive_ns[0]) / 1e9 if served else 0.0
    dropped = sent - served
    over = int((latencies > config.latency_bound_ms).sum()) + dropped
    metrics = {"achieved_rate_rps": served / wall if wall > 0 else None, "target_rate_rps": config.rate,
               "over_bound_pct": 100.0 * over / sent if sent else None,
               "mean_batch_requests": float(np.mean(batch_sizes)) if batch_sizes else None}
    load = {"seed": config.seed, "requests_planned": config.requests, "requests_sent": sent,
            "requests_dropped": dropped, "stopped_by_time": sent < len(arrivals)}
    cached = _cached(predictor)
    return ScenarioResult(latencies.tolist(), wall, first_ms, [bool(h) for h in hits[:served]] if cached else None,
                          metrics, load)


def _sleep_until(target_ns: int) -> None:
    """Sleep (never spin: the model needs the cores) until the clock reaches `target_ns`."""
    while (remaining := target_ns - clock()) > 0:
        time.sleep(remaining / 1e9)
