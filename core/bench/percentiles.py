"""Latency percentiles that say how sure they are.

- `percentile_interval`: a distribution-free 95% interval for a percentile from order statistics
  (the number of samples below the true percentile is binomial), so no assumption about the shape
  of the latency distribution — which is skewed and often multi-modal.
- `min_samples`: how many timed calls a tail percentile needs before it is reported, by MLPerf
  LoadGen's early-stopping rule (99% confidence, one call over the estimate allowed): 64 for p90,
  662 for p99. Below that, the tail is "insufficient", not a number.
- `bootstrap_interval`: the 95% interval of any statistic by resampling (paired ratios, perplexity over texts).
"""
from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

CONFIDENCE = 0.95            # of the intervals
EARLY_STOP_CONFIDENCE = 0.99  # of the sample-count rule (MLPerf's)
# Percentiles below this are always reported: a few dozen samples pin a median.
TAIL_FROM = 90.0
TAILS = {"p90": 90.0, "p95": 95.0, "p99": 99.0, "p99.9": 99.9}


def percentile_interval(samples: Sequence[float], q: float,
                        confidence: float = CONFIDENCE) -> tuple[float, float] | None:
    """[x_(l), x_(u)] covering the q-th percentile (0 < q < 100) with at least `confidence`; None when
    there are too few samples for such a pair of order statistics."""
    from scipy.stats import binom

    n, p, alpha = len(samples), q / 100.0, 1.0 - confidence
    if n == 0:
        return None
    low_rank = int(binom.ppf(alpha / 2, n, p))         # P(B < low_rank) < alpha/2, B = samples below
    high_rank = int(binom.ppf(1 - alpha / 2, n, p)) + 1  # P(B >= high_rank) <= alpha/2
    if low_rank < 1 or high_rank > n:
        return None
    ordered = np.sort(np.asarray(samples, dtype=float))
    return float(ordered[low_rank - 1]), float(ordered[high_rank - 1])


@functools.lru_cache(maxsize=64)
def min_samples(q: float, confidence: float = EARLY_STOP_CONFIDENCE) -> int:
    """Timed calls needed before the q-th percentile is reported (MLPerf early stopping, t = 1):
    the smallest n with P(at most 1 of n calls above the true percentile) <= 1 - confidence."""
    from scipy.stats import binom

    if q < TAIL_FROM:
        return 1
    p_over, target = 1.0 - q / 100.0, 1.0 - confidence
    n = max(2, math.ceil(math.log(target) / math.log(q / 100.0)))
    while binom.cdf(1, n, p_over) > target:
        n += 1 if n < 64 else max(1, n // 64)
    while n > 2 and binom.cdf(1, n - 1, p_over) <= target:  # step back to the exact boundary
        n -= 1
    return n


def supported(q: float, count: int) -> bool:
    """True when `count` timed calls support reporting the q-th percentile."""
    return count >= min_samples(q)


def bootstrap_interval(count: int, statistic, samples: int, seed: int = 0) -> tuple[float, float]:
    """The 95% bootstrap interval of a statistic of `count` items: `statistic(picks)` takes a (samples, count)
    array of resampled indices and returns one value per row (vectorised)."""
    picks = np.random.default_rng(seed).integers(0, count, size=(samples, count))
    low, high = np.percentile(statistic(picks), [2.5, 97.5])
    return float(low), float(high)
