"""Percentile intervals from order statistics and the sample-count rule, on synthetic samples."""
import numpy as np
import pytest

from core.bench.percentiles import min_samples, percentile_interval, supported


def test_the_counts_match_mlperf_early_stopping():
    assert (min_samples(90), min_samples(99)) == (64, 662)  # MLPerf LoadGen's published minimums
    assert min_samples(50) == 1 and min_samples(99.9) > min_samples(99) > min_samples(95) > min_samples(90)
    assert not supported(99, 661) and supported(99, 662)


@pytest.mark.parametrize("q", [50, 90, 99])
def test_an_interval_covers_the_true_percentile_at_least_95_percent_of_the_time(q):
    rng = np.random.default_rng(q)
    true = float(-np.log(1 - q / 100))  # the exponential distribution's q-th percentile
    n = 700 if q == 99 else 120
    covered = 0
    trials = 400
    for _ in range(trials):
        low, high = percentile_interval(rng.exponential(1.0, n), q)
        covered += low <= true <= high
    assert covered / trials >= 0.93  # nominal 95%; order-statistic intervals are conservative


def test_too_few_samples_give_no_interval_and_the_interval_holds_the_estimate():
    assert percentile_interval([1.0, 2.0, 3.0, 4.0, 5.0], 50) is None  # 5 samples cannot pin a median at 95%
    samples = np.random.default_rng(1).lognormal(0, 0.5, 300)
    low, high = percentile_interval(samples, 50)
    assert low <= np.percentile(samples, 50) <= high and low in samples and high in samples
    assert percentile_interval(samples, 99.9) is None
