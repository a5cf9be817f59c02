"""Workers and the targets they serve: registration, heartbeats, and who is alive.

Every worker registers — a local one with no target, a target's with its name and the machine's environment —
and beats a heartbeat; `JobQueries.requeue_lost_jobs` is the one rule for those that stop.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from core.store.connection import Database, now
from core.store.entities import TargetRecord
from core.store.kinds import JOB_KINDS
from core.store.schema import TargetRow, WorkerRow


class WorkerQueries(Database):
    def register_worker(self, target: str | None, environment: dict[str, Any] | None = None, *,
                        accepts_unaddressed: bool = False) -> int:
        """Add this process as a worker (of `target`, registering or refreshing it with this machine's
        `environment`; None: the local worker, which takes unaddressed work); returns the worker id its heartbeats
        use. A caller that works as that worker says so in its store's `identity`."""
        host = self.identity.host
        with self._session() as session:
            if target is not None:
                row = session.get(TargetRow, target, with_for_update=self.engine.dialect.name != "sqlite")
                if row is None:
                    session.add(TargetRow(name=target, environment=environment or {}, host=host,
                                          registered_at=now(), last_seen_at=now()))
                else:
                    row.environment, row.host, row.last_seen_at = environment or {}, host, now()
            worker = WorkerRow(target=target, host=host, pid=self.identity.pid, started_at=now(),
                               heartbeat_at=now(), accepts_unaddressed=accepts_unaddressed or target is None)
            session.add(worker)
            session.flush()
            return worker.id

    def heartbeat(self, worker_id: int) -> bool:
        """This worker is alive; False when it was already declared lost (its jobs went back to the queue)."""
        with self._session() as session:
            beat = session.execute(update(WorkerRow).where(WorkerRow.id == worker_id, WorkerRow.stopped_at.is_(None))
                                   .values(heartbeat_at=now())).rowcount == 1
            target = session.scalar(select(WorkerRow.target).where(WorkerRow.id == worker_id))
            if target is not None:
                session.execute(update(TargetRow).where(TargetRow.name == target).values(last_seen_at=now()))
            return beat

    def stop_worker(self, worker_id: int, reason: str = "stopped") -> None:
        """This worker ends (or was declared lost and stops working as it)."""
        with self._session() as session:
            session.execute(update(WorkerRow).where(WorkerRow.id == worker_id, WorkerRow.stopped_at.is_(None))
                            .values(stopped_at=now(), stop_reason=reason[:200]))

    def target_environments(self) -> dict[str, dict[str, Any]]:
        """Each registered target's name and the environment it reported, by name (one small read)."""
        with self._session() as session:
            return {name: dict(env or {}) for name, env in
                    session.execute(select(TargetRow.name, TargetRow.environment).order_by(TargetRow.name)).all()}

    def live_workers(self, target: str | None, timeout_s: float) -> int:
        """Workers that would take work addressed to `target` (None: unaddressed) and beat within `timeout_s`."""
        since = now() - timedelta(seconds=timeout_s)
        query = select(func.count()).select_from(WorkerRow).where(WorkerRow.stopped_at.is_(None),
                                                                  WorkerRow.heartbeat_at >= since)
        query = query.where(WorkerRow.accepts_unaddressed.is_(True) if target is None else WorkerRow.target == target)
        with self._session() as session:
            return int(session.scalar(query) or 0)

    def targets(self, timeout_s: float) -> list[TargetRecord]:
        """Every registered target, by name, with its live workers (a heartbeat within `timeout_s`) and queue."""
        since = now() - timedelta(seconds=timeout_s)
        with self._session() as session:
            live = dict(session.execute(select(WorkerRow.target, func.count()).where(
                WorkerRow.stopped_at.is_(None), WorkerRow.heartbeat_at >= since).group_by(WorkerRow.target)).all())
            counts: dict[tuple[str, str], int] = {}
            for table in (kind.table for kind in JOB_KINDS.values()):
                for target, status, count in session.execute(
                        select(table.target, table.status, func.count()).where(
                            table.target.is_not(None), table.status.in_(("queued", "running")))
                        .group_by(table.target, table.status)).all():
                    counts[target, status] = counts.get((target, status), 0) + count
            return [TargetRecord(name=row.name, environment=dict(row.environment or {}), host=row.host,
                                 registered_at=row.registered_at, last_seen_at=row.last_seen_at,
                                 live_workers=live.get(row.name, 0), queued=counts.get((row.name, "queued"), 0),
                                 running=counts.get((row.name, "running"), 0))
                    for row in session.scalars(select(TargetRow).order_by(TargetRow.name)).all()]
