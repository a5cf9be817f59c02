"""The arithmetic of a paired re-measurement (pure): per-round ratios, a bootstrap interval, a verdict."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.bench.percentiles import bootstrap_interval

BOOTSTRAP_SAMPLES = 2000


@dataclass(frozen=True)
class Paired:
    """One run's result against the reference."""

    run_id: int
    ratio: float            # reference latency / this run's: > 1 means faster than the reference
    ci_low: float
    ci_high: float
    verdict: str            # "faster", "slower", "no difference", or "reference"
    p50_ms: float           # median of this run's block medians

    def words(self, reference_id: int, noise_pct: float, per: str = "") -> str:
        """"2.71x faster (2.64–2.79, paired) than run 1" — the figure Compare and Export quote; `per` says what the
        speed is of where a call is not the unit ("generated token": "(…, paired, per generated token)")."""
        if self.verdict == "reference":
            return f"run {self.run_id} is the reference"
        per = f", per {per}" if per else ""
        interval = f"({self.ci_low:.2f}–{self.ci_high:.2f}, paired{per})"
        if self.verdict == "no difference":
            return (f"run {self.run_id}: no difference from run {reference_id} beyond {noise_pct:g}% "
                    f"({self.ratio:.3f}x {interval})")
        if self.verdict == "faster":
            return f"run {self.run_id} is {self.ratio:.2f}x faster {interval} than run {reference_id}"
        return f"run {self.run_id} is {1 / self.ratio:.2f}x slower than run {reference_id} " \
               f"({1 / self.ci_high:.2f}–{1 / self.ci_low:.2f}, paired{per})"


def bootstrap_ratio(reference: np.ndarray, other: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """Median per-round ratio reference/other and its bootstrap 95% interval over rounds."""
    ratios = np.asarray(reference) / np.asarray(other)
    low, high = bootstrap_interval(len(ratios), lambda picks: np.median(ratios[picks], axis=1), BOOTSTRAP_SAMPLES, seed)
    return float(np.median(ratios)), low, high


def verdict(ci_low: float, ci_high: float, noise_pct: float) -> str:
    """faster / slower when the whole interval is beyond the noise threshold, else no difference."""
    margin = 1.0 + noise_pct / 100.0
    if ci_low > margin:
        return "faster"
    if ci_high < 1.0 / margin:
        return "slower"
    return "no difference"


def paired_results(blocks: dict[int, list[float]], reference_id: int, noise_pct: float, seed: int = 0) -> list[Paired]:
    """Each run's block medians (ms, one per round) -> its ratio, interval and verdict against the reference."""
    reference = np.asarray(blocks[reference_id])
    out = []
    for run_id, medians in blocks.items():
        own = np.asarray(medians)
        if run_id == reference_id:
            out.append(Paired(run_id, 1.0, 1.0, 1.0, "reference", float(np.median(own))))
            continue
        ratio, low, high = bootstrap_ratio(reference, own, seed + run_id)
        out.append(Paired(run_id, ratio, low, high, verdict(low, high, noise_pct), float(np.median(own))))
    return out
