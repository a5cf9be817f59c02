import numpy as np

from core.bench.timing import LatencyStats, TimingConfig, measure


def test_first_call_apart_and_both_minimums_met():
    calls = []
    stats = measure(lambda x: calls.append(x), 7, TimingConfig(warmup=3, warmup_seconds=0.0, min_repeats=20,
                                                               min_seconds=0.05), batch=4)
    assert stats.count >= 20 and stats.wall_seconds >= 0.05
    assert len(calls) == 1 + 3 + stats.count
    assert stats.first_ms >= 0 and len(stats.samples_ms) == stats.count
    assert stats.throughput_ips > 0


def test_the_warm_up_lasts_both_its_count_and_its_seconds():
    import time

    calls = []

    def call(x):
        calls.append(time.perf_counter())
        time.sleep(0.01)

    stats = measure(call, None, TimingConfig(warmup=2, warmup_seconds=0.2, min_repeats=3, min_seconds=0.0), batch=1)
    warm_up = calls[1:len(calls) - stats.count]  # after the first call, before the timed ones
    assert len(warm_up) > 2 and warm_up[-1] - warm_up[0] >= 0.2 - 0.011 * 2


def test_max_seconds_caps_a_slow_call():
    import time

    stats = measure(lambda x: time.sleep(0.02), None, TimingConfig(warmup=0, warmup_seconds=0.0,
                                                                   min_repeats=10_000, min_seconds=0.0, max_seconds=0.1), batch=1)
    assert 1 <= stats.count < 20


def test_given_first_call_is_kept():
    stats = measure(lambda x: None, None, TimingConfig(warmup=0, min_repeats=3, min_seconds=0), batch=1, first_ms=9.5)
    assert stats.first_ms == 9.5 and stats.count >= 3


def test_statistics_on_known_samples():
    samples = tuple(float(v) for v in range(1, 101))
    stats = LatencyStats(first_ms=5.0, samples_ms=samples, wall_seconds=2.0, batch=8)
    assert stats.percentile(50) == np.percentile(samples, 50)
    assert stats.percentile(99) == np.percentile(samples, 99)
    assert stats.mean_ms == 50.5 and abs(stats.std_ms - np.std(samples, ddof=1)) < 1e-9
    assert stats.throughput_ips == 8 * 100 / 2.0
