"""The paired arithmetic on synthetic block medians: ratios, bootstrap intervals, verdicts, words."""
import numpy as np

from core.bench.paired import Paired, paired_results, verdict


def drifting(base_ms: float, rounds: int = 60, seed: int = 0) -> np.ndarray:
    """Block medians of a host that drifts by ±30% over time, identically for every configuration."""
    rng = np.random.default_rng(seed)
    drift = 1.0 + 0.3 * np.sin(np.linspace(0, 6, rounds))
    return base_ms * drift * rng.normal(1.0, 0.01, rounds)


def test_pairing_cancels_a_drift_that_hits_every_configuration():
    blocks = {1: drifting(1.0, seed=1).tolist(), 2: drifting(0.5, seed=2).tolist(), 3: drifting(1.0, seed=3).tolist()}
    results = {r.run_id: r for r in paired_results(blocks, 1, noise_pct=2.0)}
    assert results[1].verdict == "reference"
    assert results[2].verdict == "faster" and results[2].ci_low < 2.0 < results[2].ci_high
    assert results[2].ci_high - results[2].ci_low < 0.05  # the ±30% drift is gone
    assert results[3].verdict == "no difference" and results[3].ci_low < 1.0 < results[3].ci_high


def test_verdicts_need_the_whole_interval_beyond_the_noise_threshold():
    assert verdict(1.03, 1.10, 2.0) == "faster" and verdict(0.90, 0.97, 2.0) == "slower"
    assert verdict(1.01, 1.10, 2.0) == "no difference" and verdict(0.95, 1.05, 2.0) == "no difference"


def test_words_quote_the_interval():
    assert Paired(7, 2.71, 2.64, 2.79, "faster", 0.1).words(1, 2.0) == "run 7 is 2.71x faster (2.64–2.79, paired) " \
                                                                      "than run 1"
    assert Paired(7, 0.5, 0.45, 0.55, "slower", 0.2).words(1, 2.0).startswith("run 7 is 2.00x slower than run 1")
    assert "no difference from run 1 beyond 2%" in Paired(7, 1.0, 0.99, 1.01, "no difference", 0.1).words(1, 2.0)
