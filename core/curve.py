"""The latency-throughput curve: the server scenario swept upward in rate until the model saturates."""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.bench.machine import machine_lock
from core.bench.timing import TimingConfig
from core.engine import prepare_run, run_scenario
from core.lifecycle import run_job
from core.options import option, parse_options
from core.progress import Progress, no_progress
from core.scenarios import ServerConfig, SingleStreamConfig, scenario_config
from core.settings import Settings
from core.store import CurvePoint, CurveRecord, RunStore
from core.workdirs import job_folder

# A rate is past saturation when less than this share of it is achieved.
SATURATED_SHARE = 0.85
# A curve sweeps the arrival rate of this scenario, after a quick capacity estimate with the other.
SWEPT_SCENARIO, ESTIMATE_SCENARIO = "server", "single-stream"


@dataclass(frozen=True)
class CurveConfig:
    latency_bound_ms: float = option(50.0, "latency bound for p99 and the share of requests over it, ms",
                                     minimum=0.001, maximum=1_000_000.0, label="p99 bound (ms)")
    points: int = option(10, "rates measured at most", minimum=3, maximum=40, label="rates at most")
    growth: float = option(1.5, "each rate is this many times the previous one", minimum=1.05, maximum=4.0,
                           label="rate growth per step")
    start_share: float = option(0.2, "first rate, as a share of the single-stream capacity estimate",
                                minimum=0.01, maximum=1.0, label="first rate (share of capacity)")
    seconds_per_point: float = option(3.0, "arrivals at each rate last about this long, s",
                                      minimum=0.2, maximum=600.0, label="seconds per rate")


def rates(capacity_rps: float, config: CurveConfig) -> list[float]:
    """The rates to try: geometric from start_share x capacity."""
    return [capacity_rps * config.start_share * config.growth ** k for k in range(config.points)]


def saturated(points: list[CurvePoint]) -> bool:
    """Two rates in a row that the server could not keep up with: more load adds only queueing."""
    tail = points[-2:]
    return len(tail) == 2 and all(p.achieved_rate_rps < SATURATED_SHARE * p.target_rate_rps for p in tail)


def sweep(store: RunStore, curve_id: int, settings: Settings, progress: Progress = no_progress) -> float:
    """Measure the points of a running curve, storing each; returns the saturation throughput (requests/s).

    The server config is the run's own when it is a server run (dynamic batching included), else the
    defaults; only the rate and the request count change between points. Holds the machine lock.
    """
    with machine_lock(f"curve {curve_id}", progress), job_folder(settings, f"curve-{curve_id}") as folder:
        return _sweep(store, curve_id, settings, progress, folder)


def _sweep(store: RunStore, curve_id: int, settings: Settings, progress: Progress, folder: Path) -> float:
    curve = store.curve(curve_id)
    run = store.get(curve.run_id)
    config = parse_options(CurveConfig, curve.config, what="curve")
    prepared = prepare_run(run, settings, progress, work_dir=folder)
    timing = TimingConfig(warmup=5, warmup_seconds=0.0, min_repeats=20, min_seconds=0.5,
                          max_seconds=2 * config.seconds_per_point + 1)  # the capacity estimate warmed it
    prepared = replace(prepared, recipe=replace(prepared.recipe, timing=timing))
    predictor = prepared.predictor()
    base = scenario_config(SWEPT_SCENARIO, run.scenario_config) if run.scenario == SWEPT_SCENARIO else ServerConfig()
    base = replace(base, latency_bound_ms=config.latency_bound_ms)

    quick = run_scenario(prepared, predictor, ESTIMATE_SCENARIO, SingleStreamConfig(), seed=run.subset_seed)
    capacity = 1000.0 / float(np.percentile(quick.samples_ms, 50))
    points: list[CurvePoint] = []
    planned = rates(capacity, config)
    for k, rate in enumerate(planned):
        server = replace(base, rate=rate, requests=max(50, min(1_000_000, int(rate * config.seconds_per_point))))
        stage = f"rate {rate:.0f}/s"
        result = run_scenario(prepared, predictor, SWEPT_SCENARIO, server,
                              lambda _stage, fraction, s=stage: progress(s, fraction), seed=run.subset_seed)
        # A curve point is a point estimate at one rate (its tail is read against the bound, not reported
        # as a run's p99), so it keeps the raw percentiles of however many requests completed.
        samples = result.samples_ms
        point = CurvePoint(target_rate_rps=rate, achieved_rate_rps=result.metrics["achieved_rate_rps"] or 0.0,
                           **{f"latency_{name}_ms": float(np.percentile(samples, q)) if samples else float("nan")
                              for name, q in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9))},
                           over_bound_pct=result.metrics["over_bound_pct"] or 0.0, completed=result.completed,
                           dropped=result.load["requests_dropped"],
                           mean_batch_requests=result.metrics.get("mean_batch_requests"))
        points.append(point)
        store.add_curve_point(curve_id, point, (k + 1) / len(planned))
        if saturated(points):
            break
    return max(p.achieved_rate_rps for p in points)


def execute_curve(store: RunStore, curve_id: int, settings: Settings,
                  progress: Progress = no_progress) -> CurveRecord:
    """Run a claimed curve to its end state; ends as every job does (`core.lifecycle`)."""
    return run_job(store, "curve", curve_id, lambda report: sweep(store, curve_id, settings, report),
                   lambda saturation: store.end("curve", curve_id, "done", saturation_rps=saturation), progress)
