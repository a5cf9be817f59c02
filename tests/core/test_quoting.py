"""One wording for quoted figures: paired re-measurements with their contention, and export verification."""
from dataclasses import replace
from datetime import UTC, datetime

from core import quoting
from core.store import ComparisonRecord
from tests.core.explore.test_analysis import run


def _timed(run_id: int, p50: float, low: float, high: float, noisy: bool = False):
    timed = run(run_id, p50, 90.0)
    timed.metrics.update(latency_p50_ci_low_ms=low, latency_p50_ci_high_ms=high)
    return replace(timed, noisy=noisy)


def _comparison(ratio: float, low: float, high: float, other_cpu_pct: float, noisy: bool):
    results = [{"run_id": 1, "ratio": 1.0, "ci_low": 1.0, "ci_high": 1.0, "verdict": "reference", "p50_ms": 40.0},
               {"run_id": 2, "ratio": ratio, "ci_low": low, "ci_high": high, "verdict": "faster", "p50_ms": 2.3}]
    return ComparisonRecord(id=9, status="done", created_at=datetime.now(UTC), finished_at=None, stage=None,
                            progress=1.0, run_ids=[1, 2], reference_id=1, config={"noise_pct": 2.0}, results=results,
                            blocks={}, noisy=noisy, note=None, error=None,
                            contention={"other_cpu_pct": other_cpu_pct, "steal_pct": 0.0})


def test_a_paired_figure_carries_its_contention_and_agrees_or_says_which_to_believe():
    """Issue 26: "8.51x faster" beside "paired: 17.39x (13.74–23.17)" on a busy host, unexplained."""
    fp32, int8 = _timed(1, 40.0, 39.6, 40.4), _timed(2, 4.7, 4.65, 4.75)          # unpaired: 8.51x (8.34–8.69)
    agreeing = quoting.paired_quote(_comparison(8.6, 8.4, 8.8, 3.0, False), int8, fp32)
    assert agreeing == ("run 2 is 8.60x faster (8.40–8.80, paired) than run 1 (quiet: other processes used 3% of a "
                        "core)")
    busy = quoting.paired_quote(_comparison(17.39, 13.74, 23.17, 85.0, True), int8, fp32)
    assert busy.startswith("run 2 is 17.39x faster (13.74–23.17, paired) than run 1 (noisy: other processes used 85% "
                           "of a core); it disagrees with the unpaired 8.511x (8.337–8.688) of the runs' own timings — "
                           "believe the unpaired figure for now: each run was timed on a quiet machine")
    quiet_disagreeing = quoting.paired_quote(_comparison(12.0, 11.8, 12.2, 4.0, False), int8, fp32)
    assert quiet_disagreeing.endswith("believe the paired figure: both were timed side by side in one process on a "
                                      "quiet machine, so what drifted between the runs' separate timings cancels")
    all_busy = quoting.paired_quote(_comparison(17.39, 13.74, 23.17, 85.0, True), _timed(2, 4.7, 4.65, 4.75, True),
                                  fp32)
    assert all_busy.endswith("believe neither: both were timed on a busy machine; measure again on a quiet one")
    rows = quoting.paired_rows(_comparison(17.39, 13.74, 23.17, 85.0, True), {1: fp32, 2: int8})
    assert rows[1]["unpaired (runs' own p50)"] == "8.511x (8.337–8.688)" and rows[0]["unpaired (runs' own p50)"] == \
        "reference"


def test_the_quoted_paired_figure_is_the_newest_quiet_one():
    fp32, int8 = _timed(1, 40.0, 39.6, 40.4), _timed(2, 4.7, 4.65, 4.75)
    quiet, busy = _comparison(8.6, 8.4, 8.8, 3.0, False), _comparison(9.9, 9.0, 10.5, 90.0, True)
    newer_busy = replace(busy, id=10)
    assert quoting.paired_words([quiet, newer_busy], int8, fp32).startswith("run 2 is 8.60x faster")
    assert quoting.paired_words([newer_busy], int8, fp32).startswith("run 2 is 9.90x faster")
