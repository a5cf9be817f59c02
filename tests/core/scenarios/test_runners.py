"""The load patterns on a predictor with a known service time: shapes, not absolute times."""
import threading
import time

import numpy as np
import pytest

from core.bench.timing import TimingConfig
from core.errors import RunCancelled
from core.runtimes import CachedPredictor, ResponseCache
from core.scenarios import (
    SCENARIOS,
    ConcurrentConfig,
    LoadContext,
    OfflineConfig,
    QueryStream,
    ServerConfig,
)
from core.scenarios.configs import SingleStreamConfig

SERVICE_S = 0.004  # each call costs this much, plus per image a tenth of it


class ServicePredictor:
    """Answers after a fixed service time (sleeping, so it does not compete for the 2 cores)."""

    engine, provider, notes = "test-service", "cpu", ()

    def __init__(self) -> None:
        self.settings = {"threads": 1}
        self.calls: list[int] = []
        self.lock = threading.Lock()

    def prepare(self, batch):
        return batch

    def run(self, batch):
        time.sleep(SERVICE_S + SERVICE_S * 0.1 * (len(batch) - 1))
        with self.lock:
            self.calls.append(len(batch))
        return batch.reshape(len(batch), -1)[:, :3] * 2.0

    def to_numpy(self, output):
        return np.asarray(output)


def context(predictor=None, *, max_seconds=30.0, warmup=2, progress=lambda stage, fraction: None, pool=64):
    predictor = predictor or ServicePredictor()
    images = np.random.default_rng(0).random((pool, 1, 2, 2), dtype=np.float32)
    return LoadContext(predictor, ServicePredictor, [images[i:i + 1] for i in range(pool)], QueryStream(pool),
                       TimingConfig(warmup=warmup, warmup_seconds=0.0, min_repeats=30, min_seconds=0.0,
                                    max_seconds=max_seconds),
                       batch=1, progress=progress)


def run(name, config, ctx):
    return SCENARIOS.get(name).run(ctx, config)


def test_low_rate_server_latency_is_close_to_single_stream():
    single = run("single-stream", SingleStreamConfig(), context())
    server = run("server", ServerConfig(rate=20, requests=40), context())
    ratio = np.median(server.samples_ms) / np.median(single.samples_ms)
    assert 0.8 < ratio < 1.3, ratio
    assert server.metrics["over_bound_pct"] == 0 and server.metrics["mean_batch_requests"] == 1
    assert server.completed == 40 and server.load["requests_dropped"] == 0


def test_past_saturation_the_achieved_rate_stops_rising():
    capacity = 1 / SERVICE_S  # 250 requests/s
    achieved = {}
    for share in (0.3, 0.6, 1.5, 3.0):
        rate = capacity * share
        result = run("server", ServerConfig(rate=rate, requests=int(rate * 0.6)), context())
        achieved[share] = result.metrics["achieved_rate_rps"]
    assert achieved[0.3] == pytest.approx(0.3 * capacity, rel=0.35)
    assert achieved[0.6] > 1.5 * achieved[0.3]                         # below saturation it follows the load
    assert achieved[1.5] < 1.05 * capacity and achieved[3.0] < 1.05 * capacity
    assert achieved[3.0] < 1.15 * achieved[1.5]                        # past it, it stops rising


def test_dynamic_batching_merges_requests_under_load():
    predictor = ServicePredictor()
    result = run("server", ServerConfig(rate=1000, requests=300, max_batch=8, max_queue_delay_ms=5), context(predictor))
    assert result.metrics["mean_batch_requests"] > 3 and max(predictor.calls) <= 8
    assert result.metrics["achieved_rate_rps"] > 400  # one at a time it could not pass 250/s


def test_the_time_bound_drops_the_backlog_and_counts_it_over_the_bound():
    result = run("server", ServerConfig(rate=2000, requests=2000, latency_bound_ms=1000), context(max_seconds=0.3))
    assert result.load["stopped_by_time"] and result.load["requests_dropped"] > 0
    assert result.metrics["over_bound_pct"] == pytest.approx(
        100 * result.load["requests_dropped"] / result.load["requests_sent"])


def test_concurrent_clients_share_sessions_and_overlap():
    ctx = context()
    result = run("concurrent", ConcurrentConfig(clients=4, sessions=2, requests=80), ctx)
    assert result.completed == 80 and result.load["sessions"] == 2
    # four sleeping clients overlap: well above one client's 250 requests/s
    assert result.completed / result.wall_seconds > 2 / SERVICE_S


def test_offline_runs_until_the_timing_protocol_is_met():
    result = run("offline", OfflineConfig(workers=2), context())
    assert result.completed >= 30 and result.load["workers"] == 2


@pytest.mark.parametrize("name, config", [("server", ServerConfig(rate=100, requests=1000)),
                                          ("concurrent", ConcurrentConfig(clients=3, requests=100_000))])
def test_a_cancel_stops_the_load_and_every_thread(name, config):
    def progress(stage, fraction):
        if fraction > 0.01:
            raise RunCancelled("cancelled by the user during time")
    before = set(threading.enumerate())
    with pytest.raises(RunCancelled):
        run(name, config, context(progress=progress))
    # no thread the load started outlives it (a daemon thread of an earlier test may end meanwhile: not ours)
    assert [t.name for t in set(threading.enumerate()) - before] == []


def test_a_failing_model_fails_the_run_from_a_client_thread():
    class Broken(ServicePredictor):
        def run(self, batch):
            if len(self.calls) > 5:
                raise RuntimeError("kernel exploded")
            return super().run(batch)
    with pytest.raises(RuntimeError, match="kernel exploded"):
        run("concurrent", ConcurrentConfig(clients=2, requests=100), context(Broken()))


def test_cache_hits_are_counted_per_request():
    predictor = CachedPredictor(ServicePredictor(), ResponseCache(64))
    ctx = context(predictor, pool=16)
    ctx.stream = QueryStream(16, repeat_ratio=0.8, seed=0)
    result = run("single-stream", SingleStreamConfig(), ctx)
    assert result.hits is not None and len(result.hits) == result.completed
    hit_ms = np.median([s for s, h in zip(result.samples_ms, result.hits) if h])
    miss_ms = np.median([s for s, h in zip(result.samples_ms, result.hits) if not h] or [SERVICE_S * 1000])
    assert sum(result.hits) > 0.5 * result.completed and hit_ms < miss_ms / 10
