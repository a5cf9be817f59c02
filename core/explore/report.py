"""Everything a front end shows about one exploration, computed from the store's records."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

from core.explore.analysis import (
    Constraints,
    HypervolumePoint,
    Recommendations,
    accuracy_metric,
    hypervolume_history,
    recommend,
)
from core.explore.search import settings_of
from core.store import ComparisonRecord, ExplorationRecord, RunRecord
from core.views import baselines, comparison_key, paired_words


@dataclass(frozen=True)
class ExplorationReport:
    record: ExplorationRecord
    runs: list[RunRecord]
    constraints: Constraints
    picks: Recommendations
    history: list[HypervolumePoint]


def report(record: ExplorationRecord, runs: Sequence[RunRecord],
           comparisons: Sequence[ComparisonRecord] = ()) -> ExplorationReport:
    """The front, recommendations and hypervolume history of an exploration's runs.

    Accuracy is top-1 when the data has labels, else agreement with the FP32 model. The fastest
    pick quotes its paired re-measurement against the FP32 baseline when one exists.
    """
    constraints = settings_of(record).constraints(accuracy_metric(runs))
    picks = recommend(runs, constraints)
    if picks.fastest is not None:
        baseline = baselines(runs).get(comparison_key(picks.fastest.run))
        paired = baseline and paired_words(comparisons, picks.fastest.run.id, baseline.id)
        if paired:
            picks = replace(picks, fastest=replace(picks.fastest, reason=f"{picks.fastest.reason}; paired: {paired}"))
    return ExplorationReport(record, list(runs), constraints, picks, hypervolume_history(runs, constraints))
