"""One lifecycle for every kind of job (core/store/kinds.py): create, claim, start, progress, cancel, end,
requeue — and one rule for the jobs of a worker that died.

queued -> running (claimed by one worker, or started by the command that runs it here) -> done, failed,
cancelled or interrupted. A stopped job (cancelled, interrupted, failed) can be queued again; an exploration
then continues where it stopped. A job whose worker is lost — its heartbeat stopped, or its process is gone
from this host — goes back to the queue once, and is interrupted the second time.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import psutil
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.errors import InferScopeError, NotFoundError
from core.store.connection import Database, aware, now
from core.store.entities import Claimant, JobRecord
from core.store.kinds import JOB_KINDS, JobKind, job_kind
from core.store.schema import FINAL_STATUSES, WorkerRow

# Allowed status changes; anything else is a bug or a race, and is refused.
TRANSITIONS = {"queued": {"running", "cancelled", "failed", "interrupted"},
               "running": {"done", "failed", "cancelled", "interrupted"}}
STOPPED_STATUSES = ("cancelled", "interrupted", "failed")  # a job in one of these can be queued again
REQUEUED_NOTE = "queued again"
MAX_REQUEUES = 1  # a job whose worker is lost goes back to the queue once; the second loss interrupts it


def addressed_to(table: Any, claimant: Claimant) -> Any:
    """The rows `claimant` may take: its target's, and unaddressed ones when it accepts them (or has no target)."""
    if claimant.target is None:
        return table.target.is_(None)
    if claimant.accepts_unaddressed:
        return or_(table.target == claimant.target, table.target.is_(None))
    return table.target == claimant.target


def _runner(row: Any) -> str:
    """The process that ran a job, as messages name it."""
    return f"{row.worker_role or 'the process that ran it'} (pid {row.worker_pid} on {row.worker_host})"


class JobQueries(Database):
    """The job lifecycle, the same for every kind; `kind` names a `JOB_KINDS` entry."""

    def _row(self, session: Session, kind: JobKind, job_id: int, *, lock: bool = False) -> Any:
        row = session.get(kind.table, job_id, with_for_update=lock and self.engine.dialect.name != "sqlite")
        if row is None:
            raise NotFoundError(f"no {kind.name} with id {job_id}")
        return row

    def _running_values(self, kind: JobKind) -> dict[str, Any]:
        """What a job records when this caller starts working on it."""
        who = self.identity
        values = {"started_at": now(), "worker_pid": who.pid, "worker_host": who.host, "worker_id": who.worker_id,
                  "worker_role": who.role}
        return values if kind.keeps_progress else {**values, "stage": "start", "progress": 0.0}

    def _insert(self, session: Session, row: Any, *, claim: bool = False) -> int:
        """Add a new job row, queued (or, with `claim`, already running for this caller); returns its id."""
        kind = next(k for k in JOB_KINDS.values() if isinstance(row, k.table))
        row.created_at, row.status, row.progress, row.notes = now(), "queued", 0.0, row.notes or []
        if claim:
            row.status = "running"
            for key, value in self._running_values(kind).items():
                setattr(row, key, value)
        session.add(row)
        session.flush()
        return row.id

    def _transition(self, session: Session, kind: JobKind, job_id: int, status: str) -> Any:
        row = self._row(session, kind, job_id, lock=True)
        if status not in TRANSITIONS.get(row.status, set()):
            raise InferScopeError(f"{kind.name} {job_id} is {row.status} and cannot become {status}")
        mine = self.identity.worker_id
        if row.status == "running" and mine is not None and row.worker_id not in (None, mine):
            raise InferScopeError(f"{kind.name} {job_id} was handed to worker {row.worker_id} after this worker "
                                  f"({mine}) was declared lost; its result here is not stored")
        row.status = status
        return row

    # -- the lifecycle ------------------------------------------------------------------------------
    def claim(self, kind: str, claimant: Claimant = Claimant(), **match: Any) -> int | None:
        """Atomically take the oldest queued job of `kind` that `claimant` may work on (marks it running); None when
        none waits. `match`: columns it must have (e.g. `exploration_id=3`: that exploration's trials). PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers never wait on
        each other's claim."""
        entry = job_kind(kind)
        table = entry.table
        query = select(table.id).where(table.status == "queued", addressed_to(table, claimant))
        query = query.where(*(getattr(table, column) == value for column, value in match.items()))
        query = query.order_by(table.id).limit(1)
        if self.engine.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        while True:
            with self._session() as session:
                job_id = session.scalar(query)
                if job_id is None:
                    return None
                if self._start(session, entry, job_id):
                    return job_id
            # SQLite: another worker took it between our read and our write; look again

    def _start(self, session: Session, kind: JobKind, job_id: int) -> bool:
        """queued -> running for one row, only if it is still queued; True when this call did it."""
        table = kind.table
        return session.execute(update(table).where(table.id == job_id, table.status == "queued")
                               .values(status="running", **self._running_values(kind))).rowcount == 1

    def start(self, kind: str, job_id: int) -> None:
        """Mark a queued job running for this caller (a command that works on it here)."""
        entry = job_kind(kind)
        with self._session() as session:
            if not self._start(session, entry, job_id):
                status = self._row(session, entry, job_id).status
                raise InferScopeError(f"{kind} {job_id} is {status}; only a queued {kind} can start")

    def resume(self, kind: str, job_id: int) -> None:
        """Work on a job here: a queued one starts, a stopped one (cancelled, interrupted, failed) is queued again
        first (an exploration keeps its finished trials)."""
        entry = job_kind(kind)
        with self._session() as session:
            row = self._row(session, entry, job_id)
            if row.status in STOPPED_STATUSES:
                self._requeue(session, entry, row)
                session.flush()
            if not self._start(session, entry, job_id):
                raise InferScopeError(f"{kind} {job_id} is done: nothing is left to continue" if row.status == "done"
                                      else f"{kind} {job_id} is {row.status}; another process works on it")

    def progress(self, kind: str, job_id: int, stage: str, fraction: float) -> bool:
        """Record a running job's stage and progress; True when a cancel was requested."""
        table = job_kind(kind).table
        with self._session() as session:
            session.execute(update(table).where(table.id == job_id, table.status == "running")
                            .values(stage=stage[:120], progress=float(fraction)))
            return bool(session.scalar(select(table.cancel_requested).where(table.id == job_id)))

    def cancel(self, kind: str, job_id: int) -> str:
        """Cancel a queued job now, or ask a running one to stop at its next progress report; its status after."""
        entry = job_kind(kind)
        with self._session() as session:
            row = self._row(session, entry, job_id)
            if row.status == "queued":
                row.status, row.finished_at, row.error = "cancelled", now(), "cancelled before it started"
            elif row.status == "running":
                row.cancel_requested = True
            if row.status in ("cancelled", "running"):
                entry.on_cancel(session, row)
            return row.status

    def end(self, kind: str, job_id: int, status: str, error: str | None = None, **values: Any) -> None:
        """A job ends: `status` is final (done, failed, cancelled, interrupted), `error` what a user can do about
        it, `values` the kind's own results (e.g. a diagnosis's nodes)."""
        if status not in FINAL_STATUSES:
            raise ValueError(f"a job ends in a final status, not {status!r}")
        with self._session() as session:
            self._end(session, job_kind(kind), job_id, status, error, values)

    def _end(self, session: Session, kind: JobKind, job_id: int, status: str, error: str | None,
             values: dict[str, Any]) -> Any:
        row = self._transition(session, kind, job_id, status)
        row.error, row.finished_at = error, now()
        for key, value in values.items():
            setattr(row, key, value)
        if status == "done":
            row.progress, row.stage = 1.0, "done"
        return row

    def requeue(self, kind: str, job_id: int) -> None:
        """Queue a stopped job (cancelled, interrupted or failed) again; an exploration keeps its finished trials."""
        entry = job_kind(kind)
        with self._session() as session:
            row = self._row(session, entry, job_id)
            if row.status not in STOPPED_STATUSES:
                raise InferScopeError(f"{kind} {job_id} is {row.status}; only a cancelled, interrupted or failed "
                                      f"{kind} can be queued again")
            self._requeue(session, entry, row)

    @staticmethod
    def _requeue(session: Session, kind: JobKind, row: Any) -> None:
        row.status, row.cancel_requested, row.error, row.finished_at = "queued", False, None, None
        row.worker_pid = row.worker_host = row.worker_id = None
        if not kind.keeps_progress:
            row.progress, row.stage = 0.0, None
            kind.discard(session, row)

    # -- reads --------------------------------------------------------------------------------------
    def job(self, kind: str, job_id: int) -> JobRecord:
        """One job of `kind`, as its record."""
        entry = job_kind(kind)
        with self._session() as session:
            return entry.record(session, self._row(session, entry, job_id))

    def jobs(self, kind: str, *conditions: Any) -> list[JobRecord]:
        """The jobs of `kind` meeting every condition, oldest first."""
        entry = job_kind(kind)
        with self._session() as session:
            rows = session.scalars(select(entry.table).where(*conditions).order_by(entry.table.id)).all()
            return [entry.record(session, row) for row in rows]

    def waiting(self) -> list[str]:
        """The kinds of job with at least one waiting in the queue."""
        with self._session() as session:
            return [name for name, kind in JOB_KINDS.items()
                    if session.scalar(select(kind.table.id).where(kind.table.status == "queued").limit(1)) is not None]

    # -- lost workers: one rule -----------------------------------------------------------------------
    def _lost(self, session: Session, timeout_s: float) -> tuple[list[WorkerRow], list[tuple[JobKind, Any]]]:
        """Workers whose heartbeat stopped more than `timeout_s` ago or whose process is gone from this host, and
        running jobs of unregistered processes (a command that ran one here) that are gone from this host."""
        since, me = now() - timedelta(seconds=timeout_s), self.identity

        def gone(host: str | None, pid: int | None) -> bool:
            return host == me.host and pid != me.pid and (pid is None or not psutil.pid_exists(pid))

        workers = [w for w in session.scalars(select(WorkerRow).where(WorkerRow.stopped_at.is_(None))).all()
                   if aware(w.heartbeat_at) < since or gone(w.host, w.pid)]
        orphans = [(kind, row) for kind in JOB_KINDS.values()
                   for row in session.scalars(select(kind.table).where(kind.table.status == "running",
                                                                      kind.table.worker_id.is_(None))).all()
                   if gone(row.worker_host, row.worker_pid)]
        return workers, orphans

    def lost_work(self, timeout_s: float) -> bool:
        """Whether a lost worker (or a dead command) still holds a running job, or is not yet declared lost
        (a read only: `requeue_lost_jobs`, which a worker calls, puts the work back)."""
        with self._session() as session:
            workers, orphans = self._lost(session, timeout_s)
            return bool(workers or orphans)

    def requeue_lost_jobs(self, timeout_s: float) -> list[str]:
        """Declare lost the workers `_lost` finds; each job they held goes back to the queue once, or is interrupted
        the second time. Returns what was done, in words. Safe to call from every worker at once: each lost worker
        is taken by one."""
        done: list[str] = []
        with self._session() as session:
            workers, orphans = self._lost(session, timeout_s)
            for worker in workers:
                if session.execute(update(WorkerRow).where(WorkerRow.id == worker.id, WorkerRow.stopped_at.is_(None))
                                   .values(stopped_at=now(), stop_reason="lost: its heartbeat stopped")).rowcount != 1:
                    continue  # another worker declared it lost first
                where = f" of target {worker.target}" if worker.target else ""
                who = f"worker {worker.id}{where} (pid {worker.pid} on {worker.host})"
                for kind in JOB_KINDS.values():
                    for row in session.scalars(select(kind.table).where(kind.table.status == "running",
                                                                       kind.table.worker_id == worker.id)).all():
                        done.append(self._put_back(session, kind, row, who))
            for kind, row in orphans:
                done.append(self._put_back(session, kind, row, _runner(row)))
        return done

    def _put_back(self, session: Session, kind: JobKind, row: Any, who: str) -> str:
        """A lost worker's job: back in the queue once (its partial work discarded; an exploration keeps its
        finished trials), interrupted the second time."""
        if (row.requeues or 0) < MAX_REQUEUES:
            stage = row.stage
            self._requeue(session, kind, row)
            row.requeues = (row.requeues or 0) + 1
            during = f" during stage {stage!r}" if stage and not kind.keeps_progress else ""
            row.notes = [*(row.notes or []), f"{REQUEUED_NOTE} at {now():%Y-%m-%d %H:%M:%S} UTC: {who} stopped "
                                             f"answering while it ran{during}"]
            return f"{kind.name} {row.id}: queued again ({who} was lost)"
        row.status, row.finished_at = "interrupted", now()
        row.error = (f"{who} stopped answering during stage {row.stage!r}, and it had been queued again once "
                     f"already; {kind.again}")
        return f"{kind.name} {row.id}: interrupted (its worker was lost a second time)"
