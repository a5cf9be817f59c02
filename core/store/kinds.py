"""The kinds of job, one registry entry each: its table, how its row becomes a record, what a requeue discards,
what else a cancel stops, and what a user does when it was interrupted. The store's job API
(core/store/jobs.py) and the worker (core/jobs.py) ask this registry; a new kind is one table (with
`JobColumns`), one entry here and one execute function in `core.jobs.JOBS`."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from core.errors import ConfigError
from core.store import records
from core.store.connection import now
from core.store.entities import JobRecord
from core.store.schema import (
    ComparisonRow,
    CurvePointRow,
    CurveRow,
    DiagnosisRow,
    ExplorationRow,
    JobColumns,
    RunRow,
)


def _nothing(session: Session, row: Any) -> None:
    return None


@dataclass(frozen=True)
class JobKind:
    """One kind of job, as the store handles it."""

    name: str                                   # "run", as messages and commands name it
    table: type[JobColumns]
    record: Callable[[Session, Any], JobRecord]
    again: str                                  # what a user does when it was interrupted: "run it again"
    keeps_progress: bool = False                # requeued, it continues where it stopped (keeps finished work)
    discard: Callable[[Session, Any], None] = _nothing    # a requeue drops its partial results
    on_cancel: Callable[[Session, Any], None] = _nothing  # what else a cancel stops


def _discard_points(session: Session, row: CurveRow) -> None:
    session.execute(delete(CurvePointRow).where(CurvePointRow.curve_id == row.id))


def cancel_queued_trials(session: Session, exploration_id: int) -> int:
    """Cancel an exploration's trials still waiting in the queue; returns how many."""
    return session.execute(update(RunRow).where(RunRow.exploration_id == exploration_id, RunRow.status == "queued")
                           .values(status="cancelled", finished_at=now(),
                                   error="cancelled with its exploration before it started")).rowcount


def _cancel_trials(session: Session, row: ExplorationRow) -> None:
    """A cancelled exploration asks its running trial to stop and cancels the queued ones."""
    session.execute(update(RunRow).where(RunRow.exploration_id == row.id, RunRow.status == "running")
                    .values(cancel_requested=True))
    cancel_queued_trials(session, row.id)


# In the order the worker takes them: runs first, then explorations, curves, re-measurements, diagnoses.
JOB_KINDS: dict[str, JobKind] = {kind.name: kind for kind in (
    JobKind("run", RunRow, records.run_record, "run it again"),
    JobKind("exploration", ExplorationRow, records.exploration_record, "continue it", keeps_progress=True,
            on_cancel=_cancel_trials),
    JobKind("curve", CurveRow, records.curve_record, "measure it again", discard=_discard_points),
    JobKind("comparison", ComparisonRow, records.comparison_record, "re-measure again"),
    JobKind("diagnosis", DiagnosisRow, records.diagnosis_record, "diagnose again"),
)}


def job_kind(name: str) -> JobKind:
    """The registry entry of `name`, or an error listing the kinds there are."""
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise ConfigError(f"no kind of job {name!r}; valid: {', '.join(JOB_KINDS)}") from None
