"""Everything a front end shows about one exploration, computed from the store's records."""
from __future__ import annotations

from dataclasses import dataclass
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
from core.store import ExplorationRecord, RunRecord


@dataclass(frozen=True)
class ExplorationReport:
    record: ExplorationRecord
    runs: list[RunRecord]
    constraints: Constraints
    picks: Recommendations
    history: list[HypervolumePoint]


def report(record: ExplorationRecord, runs: Sequence[RunRecord]) -> ExplorationReport:
    """The front, recommendations and hypervolume history of an exploration's runs.

    Accuracy is top-1 when the data has labels, else agreement with the FP32 model.
    """
    constraints = settings_of(record).constraints(accuracy_metric(runs))
    return ExplorationReport(record, list(runs), constraints, recommend(runs, constraints),
                             hypervolume_history(runs, constraints))
