"""Jobs that study runs: explorations (a budgeted search whose trials are runs), latency-throughput curves,
paired re-measurements (comparisons) and diagnoses — how each is created from the runs it studies, its own
results, and its reads. Their lifecycle is every job's (core/store/jobs.py)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import update

from core.errors import InferScopeError
from core.store.entities import (
    ComparisonRecord,
    CurvePoint,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
)
from core.store.jobs import JobQueries
from core.store.kinds import JOB_KINDS, cancel_queued_trials
from core.store.schema import (
    ComparisonRow,
    CurvePointRow,
    CurveRow,
    DiagnosisRow,
    ExplorationRow,
    RunRow,
)

RUN = JOB_KINDS["run"]


class StudyQueries(JobQueries):
    """Explorations, curves, comparisons and diagnoses."""

    def _done_run(self, session: Any, run_id: int, what: str) -> RunRow:
        run = self._row(session, RUN, run_id)
        if run.status != "done":
            raise InferScopeError(f"run {run_id} is {run.status}; {what}")
        return run

    # -- latency-throughput curves ------------------------------------------------------------------
    def create_curve(self, run_id: int, config: dict[str, Any]) -> int:
        """Queue a sweep of a done run's configuration; returns the curve id."""
        with self._session() as session:
            run = self._done_run(session, run_id, "a curve sweeps a finished (done) run")
            # a curve is measured where its run was
            return self._insert(session, CurveRow(run_id=run_id, config=config, target=run.target))

    def add_curve_point(self, curve_id: int, point: CurvePoint, progress: float) -> None:
        with self._session() as session:
            session.add(CurvePointRow(curve_id=curve_id, **point.__dict__))
            session.execute(update(CurveRow).where(CurveRow.id == curve_id).values(progress=float(progress)))

    def curve(self, curve_id: int) -> CurveRecord:
        return self.job("curve", curve_id)

    def curves(self, run_id: int | None = None, status: str | None = None) -> list[CurveRecord]:
        """Curves (of one run, or with one status), oldest first, with their points."""
        return self.jobs("curve", *([CurveRow.run_id == run_id] if run_id is not None else []),
                         *([CurveRow.status == status] if status is not None else []))

    # -- diagnoses (where an INT8 run's accuracy went, where a run's time goes) --------------------------------
    def create_diagnosis(self, run_id: int, config: dict[str, Any], kind: str = "sensitivity") -> int:
        """Queue a diagnosis (`kind`: sensitivity or profile) of a done run; returns its id."""
        with self._session() as session:
            run = self._done_run(session, run_id, "a diagnosis reads a done run")
            return self._insert(session, DiagnosisRow(run_id=run_id, kind=kind, config=dict(config),
                                                      target=run.target))

    def diagnosis(self, diagnosis_id: int) -> DiagnosisRecord:
        return self.job("diagnosis", diagnosis_id)

    def diagnoses(self, run_id: int | None = None, kind: str | None = None) -> list[DiagnosisRecord]:
        """Diagnoses (of `run_id`, of `kind`), oldest first."""
        return self.jobs("diagnosis", *([DiagnosisRow.run_id == run_id] if run_id is not None else []),
                         *([DiagnosisRow.kind == kind] if kind is not None else []))

    # -- paired re-measurements (comparisons) -------------------------------------------------------------
    def create_comparison(self, run_ids: list[int], reference_id: int, config: dict[str, Any]) -> int:
        """Queue a paired re-measurement of done runs against `reference_id` (one of them); returns its id."""
        with self._session() as session:
            targets = {self._done_run(session, run_id, "only finished (done) runs are re-measured").target
                       for run_id in run_ids}
            if len(targets) > 1:
                raise InferScopeError("these runs were measured on different targets "
                                      f"({', '.join(sorted(t or 'unaddressed' for t in targets))}); a paired "
                                      "re-measurement runs them in one process on one machine — compare them side "
                                      "by side on the Compare page instead")
            return self._insert(session, ComparisonRow(run_ids=list(run_ids), reference_id=reference_id,
                                                       config=config, target=targets.pop()))

    def comparison(self, comparison_id: int) -> ComparisonRecord:
        return self.job("comparison", comparison_id)

    def comparisons(self, run_id: int | None = None) -> list[ComparisonRecord]:
        """Comparisons (those including `run_id`), oldest first."""
        return [r for r in self.jobs("comparison") if run_id is None or run_id in r.run_ids]

    # -- explorations -------------------------------------------------------------------------------
    def create_exploration(self, config: dict[str, Any]) -> int:
        """Queue an exploration (a validated config; its `target`, if any, is where its trials run); returns its
        id."""
        with self._session() as session:
            return self._insert(session, ExplorationRow(config=config, spent_s=0.0, trials=0,
                                                        target=config.get("target")))

    def update_exploration(self, exploration_id: int, **values: Any) -> bool:
        """Record progress (progress, spent_s, trials, strategy, notes); True when a cancel was requested."""
        with self._session() as session:
            row = self._row(session, JOB_KINDS["exploration"], exploration_id)
            for key, value in values.items():
                setattr(row, key, value)
            return bool(row.cancel_requested)

    def reuse_run(self, exploration_id: int, run_id: int) -> None:
        """Count a stored done run among an exploration's runs (a baseline it need not measure again)."""
        with self._session() as session:
            row = self._row(session, JOB_KINDS["exploration"], exploration_id)
            row.reused_run_ids = sorted({*(row.reused_run_ids or []), run_id})

    def cancel_queued_trials(self, exploration_id: int) -> int:
        """Cancel an exploration's trials still waiting in the queue; returns how many."""
        with self._session() as session:
            return cancel_queued_trials(session, exploration_id)

    def exploration(self, exploration_id: int) -> ExplorationRecord:
        return self.job("exploration", exploration_id)

    def explorations(self) -> list[ExplorationRecord]:
        """Every exploration, oldest first."""
        return self.jobs("exploration")
