"""Runs: one measured configuration each, with its metrics, raw latencies and per-image predictions."""
from __future__ import annotations

import math
from typing import Any

from sqlalchemy import delete, or_, select

from core.errors import MeasurementError, NotFoundError
from core.store.entities import RunRecord, RunSpec
from core.store.jobs import REQUEUED_NOTE, JobQueries
from core.store.kinds import JOB_KINDS
from core.store.records import run_record
from core.store.schema import (
    INT_METRIC_COLUMNS,
    METRIC_COLUMNS,
    CurvePointRow,
    CurveRow,
    DiagnosisRow,
    ExplorationRow,
    LatencySamples,
    RunRow,
)

RUN = JOB_KINDS["run"]


class RunQueries(JobQueries):
    """Create, finish, read and delete runs (their lifecycle is every job's: core/store/jobs.py)."""

    def create_run(self, spec: RunSpec, *, claim: bool = False, exploration_id: int | None = None,
                   parent_run_id: int | None = None) -> int:
        """Queue a run of `spec`; returns its id. `claim`: insert it already running for this caller, so no worker
        can take it between the insert and the start. `exploration_id`: a trial of that exploration;
        `parent_run_id`: the run it was derived from (e.g. by a diagnosis's "keep in float")."""
        with self._session() as session:
            return self._insert(session, RunRow(**spec.columns(), exploration_id=exploration_id,
                                                parent_run_id=parent_run_id), claim=claim)

    def set_tags(self, run_id: int, tags: list[str]) -> None:
        with self._session() as session:
            row = self._row(session, RUN, run_id)
            row.tags = sorted({t.strip() for t in tags if t.strip()})

    def finish(self, run_id: int, *, metrics: dict[str, Any], samples_ms: list[float], notes: list[str],
               environment: dict[str, Any], fingerprint: str, engine: str, extra: dict[str, Any] | None = None,
               predictions: list[int] | None = None) -> None:
        """Store the metrics (and the top-1 class per subset image) and mark the run done, in one transaction."""
        unknown = set(metrics) - set(METRIC_COLUMNS) - set(INT_METRIC_COLUMNS)
        if unknown:
            raise ValueError(f"unknown metric columns {sorted(unknown)}")
        _check_latencies(run_id, metrics, samples_ms)
        with self._session() as session:
            kept = [n for n in self._row(session, RUN, run_id).notes or [] if n.startswith(REQUEUED_NOTE)]
            self._end(session, RUN, run_id, "done", None,
                      {**metrics, **(extra or {}), "notes": [*kept, *notes], "environment": environment,
                       "env_fingerprint": fingerprint, "engine": engine})  # how it got here stays on record
            session.merge(LatencySamples(run_id=run_id, samples_ms=samples_ms, predictions=predictions))

    def delete(self, run_id: int) -> None:
        with self._session() as session:
            curves = select(CurveRow.id).where(CurveRow.run_id == run_id)
            session.execute(delete(CurvePointRow).where(CurvePointRow.curve_id.in_(curves)))
            session.execute(delete(CurveRow).where(CurveRow.run_id == run_id))
            session.execute(delete(DiagnosisRow).where(DiagnosisRow.run_id == run_id))
            session.execute(delete(LatencySamples).where(LatencySamples.run_id == run_id))
            session.execute(delete(RunRow).where(RunRow.id == run_id))

    def get(self, run_id: int) -> RunRecord:
        table = RunRow.__table__
        with self._session() as session:
            row = session.execute(select(table).where(table.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id}; `python -m core runs` lists them")
        return run_record(None, row)

    def list_runs(self, status: str | None = None, exploration_id: int | None = None, *,
                  statuses: tuple[str, ...] = (), latest: int | None = None) -> list[RunRecord]:
        """All runs (or those with `status` or one of `statuses`, or of one exploration: its trials and the
        baselines it reused), oldest first; `latest` keeps only the newest that many.

        Plain rows, no ORM objects: 5,000 runs load fast; a filtered read uses the status index.
        """
        table = RunRow.__table__
        query = select(table).order_by(table.c.id.desc() if latest else table.c.id)
        if status:
            query = query.where(table.c.status == status)
        if statuses:
            query = query.where(table.c.status.in_(statuses))
        with self._session() as session:
            if exploration_id is not None:  # its trials and the stored baselines it reused
                reused = session.scalar(select(ExplorationRow.reused_run_ids)
                                        .where(ExplorationRow.id == exploration_id)) or []
                query = query.where(or_(table.c.exploration_id == exploration_id, table.c.id.in_(reused)))
            if latest:
                query = query.limit(latest)
            records = [run_record(None, row) for row in session.execute(query).mappings()]
        return records[::-1] if latest else records

    def samples(self, run_id: int) -> list[float]:
        with self._session() as session:
            row = session.get(LatencySamples, run_id)
            return list(row.samples_ms) if row else []

    def predictions(self, run_id: int) -> list[int] | None:
        """The run's top-1 class for each image of its subset, in subset order; None when not stored."""
        with self._session() as session:
            row = session.get(LatencySamples, run_id)
            return list(row.predictions) if row is not None and row.predictions is not None else None


def _is_latency(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value >= 0


def _check_latencies(run_id: int, metrics: dict[str, Any], samples_ms: list[float]) -> None:
    """The last line of defence: a NaN, infinite or negative latency never reaches a chart as a done run."""
    bad = {k: v for k, v in metrics.items() if k.startswith("latency_") and k.endswith("_ms") and v is not None
           and not _is_latency(v)}
    wrong_samples = sum(not _is_latency(v) for v in samples_ms)
    if bad or wrong_samples:
        found = [f"{k} = {v!r}" for k, v in bad.items()] + ([f"{wrong_samples} raw sample(s)"] if wrong_samples else [])
        raise MeasurementError(f"run {run_id} measured impossible latencies ({', '.join(found)}): a latency must be a "
                               "finite number of milliseconds, at least 0; the run is not stored as done — check the "
                               "scenario's and the timing protocol's settings")
