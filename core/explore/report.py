"""Everything a front end shows about one exploration, computed from the store's records."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from core.explore.analysis import (
    Constraints,
    HypervolumePoint,
    Recommendations,
    accuracy_metric,
    hypervolume_history,
    quote_paired,
    recommend,
)
from core.explore.settings import settings_of
from core.store import ComparisonRecord, ExplorationRecord, RunRecord


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
    picks = replace(picks, fastest=quote_paired(picks.fastest, runs, comparisons))
    history = hypervolume_history(runs, constraints, record.started_at)
    return ExplorationReport(record, list(runs), constraints, picks, history)
