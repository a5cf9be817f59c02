"""The run store: one SQLAlchemy engine, short managed sessions, plain objects out."""
from __future__ import annotations

import functools
import math
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import (
    create_engine,
    delete,
    event,
    func,
    inspect,
    make_url,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from core.errors import (
    ConfigError,
    InferScopeError,
    MeasurementError,
    NotFoundError,
    StoreError,
    StoreUnavailable,
)
from core.store import migrations
from core.store.entities import (
    Claimant,
    ComparisonRecord,
    CurvePoint,
    CurveRecord,
    DiagnosisRecord,
    ExplorationRecord,
    RunRecord,
    TargetRecord,
    UploadRecord,
)
from core.store.resilience import is_transient, retry_all
from core.store.schema import (
    FINAL_STATUSES,
    INT_METRIC_COLUMNS,
    METRIC_COLUMNS,
    SCHEMA_VERSION,
    Base,
    ComparisonRow,
    CurvePointRow,
    CurveRow,
    DiagnosisRow,
    ExplorationRow,
    LatencySamples,
    RunRow,
    SchemaInfo,
    TargetRow,
    UploadRow,
    WorkerRow,
)

BUSY_TIMEOUT_MS = 15_000
# Allowed status changes; anything else is a bug or a race, and is refused.
TRANSITIONS = {"queued": {"running", "cancelled", "failed", "interrupted"},
               "running": {"done", "failed", "cancelled", "interrupted"}}


def now() -> datetime:
    return datetime.now(UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _shown(url: str) -> str:
    """`url` as messages show it: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def _explain(exc: Exception, url: str) -> StoreError:
    text = str(getattr(exc, "orig", exc))
    url = _shown(url)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"the run store {url} is read-only; make the file and its folder writable, "
                          "or point INFERSCOPE_DB / INFERSCOPE_HOME elsewhere")
    if "locked" in text:
        return StoreUnavailable(f"the run store {url} stayed locked by another writer for "
                                f"{BUSY_TIMEOUT_MS / 1000:g} s; try again when the other process is done")
    if "not a database" in text or "malformed" in text:
        return StoreError(f"the run store {url} is not a readable SQLite database (corrupt, or another kind of "
                          "file); move it aside and start again, or point INFERSCOPE_DB elsewhere")
    if "unable to open" in text:
        return StoreError(f"cannot open the run store {url}; check that its folder exists and is writable")
    if is_transient(exc):
        first_line = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
        return StoreUnavailable(f"the run store {url} is not answering ({first_line})")
    return StoreError(f"the run store {url} failed: {text}")


def _rollback(session: Session) -> None:
    """Undo a failed transaction; on a connection the server closed there is nothing left to undo."""
    try:
        session.rollback()
    except DBAPIError:
        session.invalidate()  # drop the dead connection from the pool rather than hand it out again


SUPPORTED_URLS = ("sqlite:///path/to/runs.db (the default, in the data directory), or "
                  "postgresql+psycopg://user:password@host/database (needs pip install 'psycopg[binary]')")
DRIVER_PACKAGES = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
                   "pymysql": "PyMySQL"}


def _open_engine(url: str) -> Engine:
    """An engine for `url`, or a ConfigError that says which URL forms work (the password never shown)."""
    shown = _shown(url)
    try:
        # pre-ping: a pooled connection a server restart closed is replaced, not handed out
        return create_engine(url, future=True, pool_pre_ping=not make_url(url).drivername.startswith("sqlite"))
    except NoSuchModuleError:
        raise ConfigError(f"the run store URL {shown} names a database kind SQLAlchemy does not know "
                         f"({make_url(url).drivername!r}); use {SUPPORTED_URLS}") from None
    except ArgumentError:
        raise ConfigError(f"the run store URL {shown} (INFERSCOPE_DB) is not a database URL; use {SUPPORTED_URLS}") \
            from None
    except ImportError as exc:
        package = DRIVER_PACKAGES.get(exc.name or "", exc.name)
        raise ConfigError(f"the run store URL {shown} needs the {exc.name} driver, which is not installed: "
                         f"pip install {package} — or use {SUPPORTED_URLS}") from None


# Written on every report of a job: best-effort, never waited for (see core.store.resilience).
PROGRESS_WRITES = frozenset({"set_progress", "set_diagnosis_progress", "set_comparison_progress"})
DEFAULT_RETRY_S = 300.0


@functools.partial(retry_all, except_=PROGRESS_WRITES)
class RunStore:
    """All reads and writes of runs. Each method is one short transaction; while the store is away (a server
    restart, a locked file) a method waits and tries again for up to `retry_s` seconds."""

    def __init__(self, url: str, retry_s: float = DEFAULT_RETRY_S) -> None:
        self.url = url
        self.retry_s = retry_s
        self.engine: Engine = _open_engine(url)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):  # URIs name their own
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            self._ensure_schema()
        except SQLAlchemyError as exc:
            raise _explain(exc, url) from None

    # -- schema -----------------------------------------------------------------------------
    def _ensure_schema(self) -> None:
        with self.engine.begin() as conn:
            tables = set(inspect(conn).get_table_names())
            if "schema_info" not in tables:
                if "runs" in tables:
                    raise StoreError(f"{self.url} holds a runs table but no schema version; it was not made by "
                                     "InferScope — point INFERSCOPE_DB elsewhere")
                Base.metadata.create_all(conn)
                conn.execute(SchemaInfo.__table__.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                migrations.stamp_head(conn)
                return
            version = int(conn.execute(select(SchemaInfo.value).where(SchemaInfo.key == "schema_version")).scalar_one())
            if version > SCHEMA_VERSION:
                raise StoreError(f"the run store {self.url} has schema version {version}, newer than this InferScope "
                                 f"understands ({SCHEMA_VERSION}); upgrade InferScope")
            migrations.upgrade(conn, version)
            if version != SCHEMA_VERSION:
                conn.execute(update(SchemaInfo).where(SchemaInfo.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))

    def schema_version(self) -> int:
        with self._session() as session:
            return int(session.scalar(select(SchemaInfo.value).where(SchemaInfo.key == "schema_version")))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            _rollback(session)
            if isinstance(exc, OperationalError) or is_transient(exc):
                raise _explain(exc, self.url) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    # -- writes -----------------------------------------------------------------------------
    def create_run(self, *, claim: bool = False, **fields: Any) -> int:
        """Insert a queued run; returns its id. `claim`: insert it already running in this process,
        so no worker can take it between the insert and the start."""
        with self._session() as session:
            start = {"status": "running", **_running_values()} if claim else {"status": "queued"}
            row = RunRow(created_at=now(), **{"progress": 0.0, **start}, **fields)
            session.add(row)
            session.flush()
            return row.id

    def _transition(self, session: Session, run_id: int, status: str) -> RunRow:
        row = _row(session, RunRow, run_id, lock=self.engine.dialect.name != "sqlite")
        if status not in TRANSITIONS.get(row.status, set()):
            raise InferScopeError(f"run {run_id} is {row.status} and cannot become {status}")
        if row.status == "running" and _process_worker is not None and row.worker_id not in (None, _process_worker):
            raise InferScopeError(f"run {run_id} was handed to worker {row.worker_id} after this worker "
                                  f"({_process_worker}) was declared lost; its result here is not stored")
        row.status = status
        return row

    def mark_running(self, run_id: int) -> None:
        with self._session() as session:
            row = self._transition(session, run_id, "running")
            for key, value in _running_values().items():
                setattr(row, key, value)

    def set_progress(self, run_id: int, stage: str, fraction: float) -> bool:
        """Record progress; returns True when a cancel was requested for this run."""
        with self._session() as session:
            session.execute(update(RunRow).where(RunRow.id == run_id, RunRow.status == "running")
                            .values(stage=stage, progress=float(fraction)))
            return bool(session.scalar(select(RunRow.cancel_requested).where(RunRow.id == run_id)))

    def claim_next_queued(self, claimant: Claimant = Claimant(), exploration_id: int | None = None) -> int | None:
        """Atomically take the oldest queued run `claimant` may work on (marks it running); None when none waits.
        `exploration_id`: only that exploration's trials."""
        return self._claim_oldest(RunRow, _running_values(), claimant,
                                  None if exploration_id is None else RunRow.exploration_id == exploration_id)

    def _claim_oldest(self, table: type[RunRow] | type[CurveRow] | type[ExplorationRow], values: dict[str, Any],
                      claimant: Claimant, extra: Any = None) -> int | None:
        """Mark the oldest queued row of `table` for `claimant`'s target running with `values`; its id, or None
        when none waits. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers never wait on each other's claim."""
        query = select(table.id).where(table.status == "queued", _addressed_to(table, claimant))
        if extra is not None:
            query = query.where(extra)
        query = query.order_by(table.id).limit(1)
        skip_locked = self.engine.dialect.name == "postgresql"
        if skip_locked:
            query = query.with_for_update(skip_locked=True)
        while True:
            with self._session() as session:
                row_id = session.scalar(query)
                if row_id is None:
                    return None
                if _start(session, table, row_id, values):
                    return row_id
            # SQLite: another worker took it between our read and our write; look again

    def request_cancel(self, run_id: int) -> str:
        """Cancel a queued run now, or ask a running one to stop at its next progress report."""
        with self._session() as session:
            return _request_cancel(session, RunRow, run_id, "cancelled before it started").status

    def set_tags(self, run_id: int, tags: list[str]) -> None:
        with self._session() as session:
            row = _row(session, RunRow, run_id)
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
            row = self._transition(session, run_id, "done")
            for key, value in {**metrics, **(extra or {})}.items():
                setattr(row, key, value)
            kept = [n for n in row.notes or [] if n.startswith(REQUEUED_NOTE)]  # how it got here stays on record
            row.notes, row.environment, row.env_fingerprint = [*kept, *notes], environment, fingerprint
            row.engine = engine
            row.finished_at, row.stage, row.progress = now(), "done", 1.0
            session.merge(LatencySamples(run_id=run_id, samples_ms=samples_ms, predictions=predictions))

    def end(self, run_id: int, status: str, error: str | None, notes: list[str] | None = None) -> None:
        """Mark a run failed, cancelled or interrupted with the message a user can act on."""
        if status not in FINAL_STATUSES or status == "done":
            raise ValueError(f"end() takes failed, cancelled or interrupted, not {status!r}")
        with self._session() as session:
            row = self._transition(session, run_id, status)
            row.error, row.finished_at = error, now()
            if notes is not None:
                row.notes = notes

    def delete(self, run_id: int) -> None:
        with self._session() as session:
            curves = select(CurveRow.id).where(CurveRow.run_id == run_id)
            session.execute(delete(CurvePointRow).where(CurvePointRow.curve_id.in_(curves)))
            session.execute(delete(CurveRow).where(CurveRow.run_id == run_id))
            session.execute(delete(DiagnosisRow).where(DiagnosisRow.run_id == run_id))
            session.execute(delete(LatencySamples).where(LatencySamples.run_id == run_id))
            session.execute(delete(RunRow).where(RunRow.id == run_id))

    def mark_dead_runs_interrupted(self) -> list[int]:
        """Runs 'running' on this host whose worker process is gone become 'interrupted' (jobs of registered workers
        are judged by their heartbeat instead: `requeue_lost_jobs`)."""
        import psutil

        host = socket.gethostname()

        def orphans(session: Session, table: type[RunRow] | type[CurveRow] | type[ExplorationRow]) -> list:
            rows = session.scalars(select(table).where(table.status == "running", table.worker_host == host,
                                                       table.worker_id.is_(None))).all()  # heartbeats judge the rest
            return [r for r in rows if r.worker_pid is None or not psutil.pid_exists(r.worker_pid)]

        with self._session() as session:
            dead = orphans(session, RunRow)
            for row in dead:
                row.status, row.finished_at = "interrupted", now()
                row.error = f"{_runner(row)} ended during stage {row.stage!r}; run it again"
            for curve in orphans(session, CurveRow):
                curve.status, curve.finished_at = "interrupted", now()
                curve.error = f"{_runner(curve)} ended mid-sweep; measure it again"
            for comparison in orphans(session, ComparisonRow):
                comparison.status, comparison.finished_at = "interrupted", now()
                comparison.error = f"{_runner(comparison)} ended during the paired rounds; re-measure again"
            for diagnosis in orphans(session, DiagnosisRow):
                diagnosis.status, diagnosis.finished_at = "interrupted", now()
                diagnosis.error = f"{_runner(diagnosis)} ended during the diagnosis; diagnose again"
            for exploration in orphans(session, ExplorationRow):
                # An exploration resumes: back to the queue, keeping every finished trial.
                exploration.notes = [*(exploration.notes or []), f"queued again after its process (pid "
                                     f"{exploration.worker_pid}) ended at {now():%Y-%m-%d %H:%M} UTC"]
                exploration.status, exploration.worker_pid = "queued", None
            return [r.id for r in dead]

    # -- latency-throughput curves ------------------------------------------------------------------
    def create_curve(self, run_id: int, config: dict[str, Any]) -> int:
        """Queue a sweep of a done run's configuration; returns the curve id."""
        with self._session() as session:
            run = _row(session, RunRow, run_id)
            if run.status != "done":
                raise InferScopeError(f"run {run_id} is {run.status}; a curve sweeps a finished (done) run")
            row = CurveRow(run_id=run_id, created_at=now(), status="queued", progress=0.0, config=config,
                           target=run.target)  # a curve is measured where its run was
            session.add(row)
            session.flush()
            return row.id

    def claim_next_curve(self, claimant: Claimant = Claimant()) -> int | None:
        """Atomically take the oldest queued curve (marks it running); None when none waits."""
        return self._claim_oldest(CurveRow, _job_values(), claimant)

    def start_curve(self, curve_id: int) -> None:
        """Mark a queued curve running in this process (the CLI measures it here)."""
        with self._session() as session:
            if not _start(session, CurveRow, curve_id, _job_values()):
                raise InferScopeError(f"curve {curve_id} is not queued")

    def add_curve_point(self, curve_id: int, point: CurvePoint, progress: float) -> None:
        with self._session() as session:
            session.add(CurvePointRow(curve_id=curve_id, **point.__dict__))
            session.execute(update(CurveRow).where(CurveRow.id == curve_id).values(progress=float(progress)))

    def end_curve(self, curve_id: int, status: str, *, error: str | None = None,
                  saturation_rps: float | None = None) -> None:
        with self._session() as session:
            _end_job(session, CurveRow, curve_id, status, error).saturation_rps = saturation_rps

    def curve(self, curve_id: int) -> CurveRecord:
        with self._session() as session:
            row = _row(session, CurveRow, curve_id)
            return _curve_record(session, row)

    def curves(self, run_id: int | None = None, status: str | None = None) -> list[CurveRecord]:
        """Curves (of one run, or with one status), oldest first, with their points."""
        query = select(CurveRow).order_by(CurveRow.id)
        if run_id is not None:
            query = query.where(CurveRow.run_id == run_id)
        if status is not None:
            query = query.where(CurveRow.status == status)
        with self._session() as session:
            return [_curve_record(session, row) for row in session.scalars(query).all()]

    # -- diagnoses (where an INT8 run's accuracy went) -------------------------------------------------------
    def create_diagnosis(self, run_id: int, config: dict[str, Any], kind: str = "sensitivity") -> int:
        """Queue a diagnosis (`kind`: sensitivity or profile) of a done run; returns its id."""
        with self._session() as session:
            run = _row(session, RunRow, run_id)
            if run.status != "done":
                raise InferScopeError(f"run {run_id} is {run.status}; a diagnosis reads a done run")
            row = DiagnosisRow(created_at=now(), status="queued", progress=0.0, run_id=run_id, kind=kind,
                               config=dict(config), target=run.target)
            session.add(row)
            session.flush()
            return row.id

    def claim_next_diagnosis(self, claimant: Claimant = Claimant()) -> int | None:
        """Atomically take the oldest queued diagnosis (marks it running); None when none waits."""
        return self._claim_oldest(DiagnosisRow, {"started_at": now(), **_job_values()}, claimant)

    def start_diagnosis(self, diagnosis_id: int) -> None:
        """Mark a queued diagnosis running in this process (the CLI diagnoses here)."""
        with self._session() as session:
            if not _start(session, DiagnosisRow, diagnosis_id, {"started_at": now(), **_job_values()}):
                raise InferScopeError(f"diagnosis {diagnosis_id} is not queued")

    def set_diagnosis_progress(self, diagnosis_id: int, stage: str, fraction: float) -> bool:
        """Record progress; True when a cancel was requested."""
        with self._session() as session:
            session.execute(update(DiagnosisRow).where(DiagnosisRow.id == diagnosis_id)
                            .values(stage=stage, progress=float(fraction)))
            return bool(session.scalar(select(DiagnosisRow.cancel_requested).where(DiagnosisRow.id == diagnosis_id)))

    def finish_diagnosis(self, diagnosis_id: int, nodes: list[dict[str, Any]], summary: dict[str, Any]) -> None:
        with self._session() as session:
            row = _end_job(session, DiagnosisRow, diagnosis_id, "done", None)
            row.nodes, row.summary = nodes, summary

    def end_diagnosis(self, diagnosis_id: int, status: str, error: str | None) -> None:
        with self._session() as session:
            _end_job(session, DiagnosisRow, diagnosis_id, status, error)

    def diagnosis(self, diagnosis_id: int) -> DiagnosisRecord:
        with self._session() as session:
            return _diagnosis_record(_row(session, DiagnosisRow, diagnosis_id))

    def diagnoses(self, run_id: int | None = None, kind: str | None = None) -> list[DiagnosisRecord]:
        """Diagnoses (of `run_id`, of `kind`), oldest first."""
        query = select(DiagnosisRow).order_by(DiagnosisRow.id)
        if run_id is not None:
            query = query.where(DiagnosisRow.run_id == run_id)
        if kind is not None:
            query = query.where(DiagnosisRow.kind == kind)
        with self._session() as session:
            return [_diagnosis_record(row) for row in session.scalars(query).all()]

    # -- paired re-measurements (comparisons) -------------------------------------------------------------
    def create_comparison(self, run_ids: list[int], reference_id: int, config: dict[str, Any]) -> int:
        """Queue a paired re-measurement of done runs against `reference_id` (one of them); returns its id."""
        with self._session() as session:
            targets = set()
            for run_id in run_ids:
                run = _row(session, RunRow, run_id)
                if run.status != "done":
                    raise InferScopeError(f"run {run_id} is {run.status}; only finished (done) runs are re-measured")
                targets.add(run.target)
            if len(targets) > 1:
                raise InferScopeError("these runs were measured on different targets "
                                      f"({', '.join(sorted(t or 'unaddressed' for t in targets))}); a paired "
                                      "re-measurement runs them in one process on one machine — compare them side "
                                      "by side on the Compare page instead")
            row = ComparisonRow(created_at=now(), status="queued", progress=0.0, run_ids=list(run_ids),
                                reference_id=reference_id, config=config, target=targets.pop())
            session.add(row)
            session.flush()
            return row.id

    def claim_next_comparison(self, claimant: Claimant = Claimant()) -> int | None:
        """Atomically take the oldest queued comparison (marks it running); None when none waits."""
        return self._claim_oldest(ComparisonRow, {"started_at": now(), **_job_values()}, claimant)

    def start_comparison(self, comparison_id: int) -> None:
        """Mark a queued comparison running in this process (the CLI measures it here)."""
        with self._session() as session:
            if not _start(session, ComparisonRow, comparison_id, {"started_at": now(), **_job_values()}):
                raise InferScopeError(f"comparison {comparison_id} is not queued")

    def set_comparison_progress(self, comparison_id: int, stage: str, fraction: float) -> bool:
        """Store progress; True when a cancel was requested."""
        with self._session() as session:
            session.execute(update(ComparisonRow).where(ComparisonRow.id == comparison_id)
                            .values(stage=stage[:32], progress=float(fraction)))
            return bool(session.scalar(select(ComparisonRow.cancel_requested).where(ComparisonRow.id == comparison_id)))

    def request_comparison_cancel(self, comparison_id: int) -> str:
        with self._session() as session:
            return _request_cancel(session, ComparisonRow, comparison_id, "cancelled before it started").status

    def finish_comparison(self, comparison_id: int, results: list[dict[str, Any]], blocks: dict[int, list[float]],
                          noisy_note: str | None, contention: dict[str, float | None] | None = None) -> None:
        with self._session() as session:
            row = _end_job(session, ComparisonRow, comparison_id, "done", None)
            row.results, row.blocks = results, {str(k): v for k, v in blocks.items()}
            row.noisy, row.note, row.contention = noisy_note is not None, noisy_note, contention

    def end_comparison(self, comparison_id: int, status: str, error: str | None) -> None:
        with self._session() as session:
            _end_job(session, ComparisonRow, comparison_id, status, error)

    def comparison(self, comparison_id: int) -> ComparisonRecord:
        with self._session() as session:
            return _comparison_record(_row(session, ComparisonRow, comparison_id))

    def comparisons(self, run_id: int | None = None) -> list[ComparisonRecord]:
        """Comparisons (those including `run_id`), oldest first."""
        with self._session() as session:
            records = [_comparison_record(row) for row in session.scalars(select(ComparisonRow)
                                                                          .order_by(ComparisonRow.id)).all()]
        return [r for r in records if run_id is None or run_id in r.run_ids]

    # -- explorations -------------------------------------------------------------------------------
    def create_exploration(self, config: dict[str, Any]) -> int:
        """Queue an exploration (a validated config; its `target`, if any, is where its trials run); returns its
        id."""
        with self._session() as session:
            row = ExplorationRow(created_at=now(), status="queued", config=config, progress=0.0, spent_s=0.0,
                                 trials=0, notes=[], target=config.get("target"))
            session.add(row)
            session.flush()
            return row.id

    def claim_next_exploration(self, claimant: Claimant = Claimant()) -> int | None:
        """Atomically take the oldest queued exploration (marks it running); None when none waits."""
        return self._claim_oldest(ExplorationRow, {"started_at": now(), **_worker_values()}, claimant)

    def requeue_exploration(self, exploration_id: int) -> None:
        """Queue a cancelled, interrupted or failed exploration again; its finished trials are kept."""
        with self._session() as session:
            self._requeue(session, exploration_id)

    def start_exploration(self, exploration_id: int) -> None:
        """Run an exploration in this process: queued, cancelled or interrupted ones continue here."""
        with self._session() as session:
            row = self._requeue(session, exploration_id)
            if not _start(session, ExplorationRow, exploration_id, {"started_at": now(), **_worker_values()}):
                raise InferScopeError(f"exploration {exploration_id} is {row.status}; another process works on it")

    @staticmethod
    def _requeue(session: Session, exploration_id: int) -> ExplorationRow:
        row = _row(session, ExplorationRow, exploration_id)
        if row.status in ("cancelled", "interrupted", "failed"):
            row.status, row.cancel_requested, row.error, row.finished_at = "queued", False, None, None
            session.flush()
        elif row.status != "queued":
            raise InferScopeError(f"exploration {exploration_id} is {row.status}; only a queued, cancelled, "
                                  "interrupted or failed exploration can continue")
        return row

    def update_exploration(self, exploration_id: int, **values: Any) -> bool:
        """Record progress (progress, spent_s, trials, strategy, notes); True when a cancel was requested."""
        with self._session() as session:
            row = _row(session, ExplorationRow, exploration_id)
            for key, value in values.items():
                setattr(row, key, value)
            return bool(row.cancel_requested)

    def reuse_run(self, exploration_id: int, run_id: int) -> None:
        """Count a stored done run among an exploration's runs (a baseline it need not measure again)."""
        with self._session() as session:
            row = _row(session, ExplorationRow, exploration_id)
            row.reused_run_ids = sorted({*(row.reused_run_ids or []), run_id})

    def end_exploration(self, exploration_id: int, status: str, error: str | None = None) -> None:
        with self._session() as session:
            _end_job(session, ExplorationRow, exploration_id, status, error)

    def request_exploration_cancel(self, exploration_id: int) -> str:
        """Cancel a queued exploration now; ask a running one (and its running trial) to stop."""
        with self._session() as session:
            row = _request_cancel(session, ExplorationRow, exploration_id, "cancelled before it continued")
            if row.status == "running":
                session.execute(update(RunRow).where(RunRow.exploration_id == exploration_id,
                                                     RunRow.status == "running").values(cancel_requested=True))
            self._cancel_queued_trials(session, exploration_id)
            return row.status

    def cancel_queued_trials(self, exploration_id: int) -> int:
        """Cancel an exploration's trials still waiting in the queue; returns how many."""
        with self._session() as session:
            return self._cancel_queued_trials(session, exploration_id)

    @staticmethod
    def _cancel_queued_trials(session: Session, exploration_id: int) -> int:
        return session.execute(update(RunRow).where(RunRow.exploration_id == exploration_id, RunRow.status == "queued")
                               .values(status="cancelled", finished_at=now(),
                                       error="cancelled with its exploration before it started")).rowcount

    def exploration(self, exploration_id: int) -> ExplorationRecord:
        with self._session() as session:
            return _exploration_record(_row(session, ExplorationRow, exploration_id))

    def explorations(self) -> list[ExplorationRecord]:
        """Every exploration, oldest first."""
        with self._session() as session:
            rows = session.scalars(select(ExplorationRow).order_by(ExplorationRow.id)).all()
            return [_exploration_record(row) for row in rows]

    # -- targets and their workers -------------------------------------------------------------------
    def register_worker(self, target: str, environment: dict[str, Any], *, accepts_unaddressed: bool = False) -> int:
        """Register (or refresh) `target` with this machine's environment and add this process as one of its
        workers; returns the worker id its heartbeats use."""
        with self._session() as session:
            row = session.get(TargetRow, target, with_for_update=self.engine.dialect.name != "sqlite")
            if row is None:
                session.add(TargetRow(name=target, environment=environment, host=socket.gethostname(),
                                      registered_at=now(), last_seen_at=now()))
            else:
                row.environment, row.host, row.last_seen_at = environment, socket.gethostname(), now()
            worker = WorkerRow(target=target, host=socket.gethostname(), pid=os.getpid(), started_at=now(),
                               heartbeat_at=now(), accepts_unaddressed=accepts_unaddressed)
            session.add(worker)
            session.flush()
            return worker.id

    def heartbeat(self, worker_id: int) -> bool:
        """This worker is alive; False when it was already declared lost (its jobs went back to the queue)."""
        with self._session() as session:
            beat = session.execute(update(WorkerRow).where(WorkerRow.id == worker_id, WorkerRow.stopped_at.is_(None))
                                   .values(heartbeat_at=now())).rowcount == 1
            target = session.scalar(select(WorkerRow.target).where(WorkerRow.id == worker_id))
            session.execute(update(TargetRow).where(TargetRow.name == target).values(last_seen_at=now()))
            return beat

    def stop_worker(self, worker_id: int, reason: str = "stopped") -> None:
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
            for table in _KINDS:
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

    def requeue_lost_jobs(self, timeout_s: float) -> list[str]:
        """Workers whose heartbeat stopped more than `timeout_s` ago (or whose process is gone from this host) are
        declared lost; each job they held goes back to the queue once, or is interrupted the second time.
        Returns what was done, in words. Safe to call from every worker at once: each lost worker is taken by one."""
        import psutil

        since, host, done = now() - timedelta(seconds=timeout_s), socket.gethostname(), []
        with self._session() as session:
            candidates = session.scalars(select(WorkerRow).where(WorkerRow.stopped_at.is_(None))).all()
            lost = [w for w in candidates if _aware(w.heartbeat_at) < since
                    or (w.host == host and w.pid != os.getpid() and not psutil.pid_exists(w.pid))]
            for worker in lost:
                if session.execute(update(WorkerRow).where(WorkerRow.id == worker.id, WorkerRow.stopped_at.is_(None))
                                   .values(stopped_at=now(), stop_reason="lost: its heartbeat stopped")).rowcount != 1:
                    continue  # another worker declared it lost first
                who = f"worker {worker.id} of target {worker.target} (pid {worker.pid} on {worker.host})"
                for table, kind in _KINDS.items():
                    for row in session.scalars(select(table).where(table.status == "running",
                                                                   table.worker_id == worker.id)).all():
                        done.append(_put_back(session, row, kind, who))
        return done

    # -- ONNX models kept in the store ---------------------------------------------------------------
    def put_upload(self, sha256: str, name: str, data: bytes) -> None:
        """Keep an ONNX model's bytes under their SHA-256 (once: the same bytes again change nothing)."""
        try:
            with self._session() as session:
                if session.get(UploadRow, sha256) is None:
                    session.add(UploadRow(sha256=sha256, name=name[:256], size=len(data), data=data,
                                          uploaded_at=now()))
        except IntegrityError:
            return  # another process stored these very bytes (the key is their hash) between our read and write

    def has_upload(self, sha256: str) -> bool:
        with self._session() as session:
            return session.scalar(select(func.count()).select_from(UploadRow).where(UploadRow.sha256 == sha256)) == 1

    def upload_data(self, sha256: str) -> bytes:
        with self._session() as session:
            data = session.scalar(select(UploadRow.data).where(UploadRow.sha256 == sha256))
        if data is None:
            raise NotFoundError(f"no ONNX model with SHA-256 {sha256} in the run store {_shown(self.url)}; "
                                "upload it again")
        return bytes(data)

    def uploads(self) -> list[UploadRecord]:
        """ONNX models in the store, newest first (without their bytes)."""
        with self._session() as session:
            rows = session.execute(select(UploadRow.sha256, UploadRow.name, UploadRow.size, UploadRow.uploaded_at)
                                   .order_by(UploadRow.uploaded_at.desc())).all()
        return [UploadRecord(sha256=r.sha256, name=r.name, size=r.size, uploaded_at=r.uploaded_at) for r in rows]

    # -- reads ------------------------------------------------------------------------------
    def get(self, run_id: int) -> RunRecord:
        table = RunRow.__table__
        with self._session() as session:
            row = session.execute(select(table).where(table.c.id == run_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"no run with id {run_id}; `python -m core runs` lists them")
        return _record(row)

    def list_runs(self, status: str | None = None, exploration_id: int | None = None, *,
                  statuses: tuple[str, ...] = (), latest: int | None = None) -> list[RunRecord]:
        """All runs (or those with `status` or one of `statuses`, or of one exploration: its trials and the
        baselines it reused), oldest first;
        `latest` keeps only the newest that many.

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
            records = [_record(row) for row in session.execute(query).mappings()]
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


_PLAIN_FIELDS = ("id", "status", "target", "model_sha256",
                 "created_at", "started_at", "finished_at", "stage", "model", "model_source",
                 "dataset", "dataset_location", "subset_size", "subset_seed", "subset_split", "calibration_split",
                 "scenario", "error", "worker_pid", "worker_host", "engine", "env_fingerprint", "environment")
_METRIC_NAMES = (*METRIC_COLUMNS, *INT_METRIC_COLUMNS)


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


_process_role: str | None = None  # what this process is, as messages name it if it dies mid-job


def set_process_role(role: str) -> None:
    """Name what this process is (e.g. "the worker (python -m core worker)"), for messages if it dies mid-job."""
    global _process_role
    _process_role = role


_process_worker: int | None = None  # the registered worker (`workers` row) this process is, if any


def set_process_worker(worker_id: int | None) -> None:
    """Name the registered worker this process is: every job it starts records it, so a lost heartbeat finds them."""
    global _process_worker
    _process_worker = worker_id


def _worker_values() -> dict[str, Any]:
    """Which process a running job belongs to (so a dead one can be found)."""
    return {"worker_pid": os.getpid(), "worker_host": socket.gethostname(), "worker_id": _process_worker}


def _addressed_to(table: Any, claimant: Claimant) -> Any:
    """The rows `claimant` may take: its target's, and unaddressed ones when it accepts them (or has no target)."""
    if claimant.target is None:
        return table.target.is_(None)
    if claimant.accepts_unaddressed:
        return or_(table.target == claimant.target, table.target.is_(None))
    return table.target == claimant.target


def _job_values() -> dict[str, Any]:
    """The process a running run or curve belongs to, and what that process is."""
    return {**_worker_values(), "worker_role": _process_role}


def _runner(row: RunRow | CurveRow) -> str:
    """The process that ran a job, as messages name it."""
    return f"{row.worker_role or 'the process that ran it'} (pid {row.worker_pid})"


def _running_values() -> dict[str, Any]:
    """What a run records when this process starts executing it."""
    return {"started_at": now(), **_job_values(), "stage": "start", "progress": 0.0}


_KINDS = {RunRow: "run", CurveRow: "curve", ExplorationRow: "exploration", ComparisonRow: "comparison",
          DiagnosisRow: "diagnosis"}


def _row(session: Session, table: type[RunRow] | type[CurveRow] | type[ExplorationRow], row_id: int, *,
         lock: bool = False):
    """The row with `row_id`, or an error naming what is missing."""
    row = session.get(table, row_id, with_for_update=lock)
    if row is None:
        raise NotFoundError(f"no {_KINDS[table]} with id {row_id}")
    return row


def _start(session: Session, table: type[RunRow] | type[CurveRow] | type[ExplorationRow], row_id: int, values: dict[str, Any]) -> bool:
    """queued -> running for one row, only if it is still queued; True when this call did it."""
    return session.execute(update(table).where(table.id == row_id, table.status == "queued")
                           .values(status="running", **values)).rowcount == 1


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


REQUEUED_NOTE = "queued again"
MAX_REQUEUES = 1  # a job whose worker is lost goes back to the queue once; the second loss interrupts it


def _put_back(session: Session, row: Any, kind: str, who: str) -> str:
    """A lost worker's job: back in the queue once (its partial work discarded; an exploration keeps its finished
    trials), interrupted the second time."""
    at = f"{now():%Y-%m-%d %H:%M:%S} UTC"
    if (row.requeues or 0) < MAX_REQUEUES:
        row.status, row.requeues = "queued", (row.requeues or 0) + 1
        row.worker_pid, row.worker_host, row.worker_id = None, None, None
        if kind != "exploration":
            row.progress, row.stage = 0.0, None
        if kind == "curve":
            session.execute(delete(CurvePointRow).where(CurvePointRow.curve_id == row.id))
        if kind in ("run", "exploration"):
            row.notes = [*(row.notes or []), f"{REQUEUED_NOTE} at {at}: {who} stopped answering while it ran"]
        return f"{kind} {row.id}: queued again ({who} was lost)"
    row.status, row.finished_at = "interrupted", now()
    row.error = f"{who} stopped answering while it ran, and it had been queued again once already; run it again"
    return f"{kind} {row.id}: interrupted (its worker was lost a second time)"


def _request_cancel(session: Session, table: type[RunRow] | type[ExplorationRow], row_id: int, queued_error: str):
    """Cancel a queued row now, or flag a running one to stop at its next check; returns the row."""
    row = _row(session, table, row_id)
    if row.status == "queued":
        row.status, row.finished_at, row.error = "cancelled", now(), queued_error
    elif row.status == "running":
        row.cancel_requested = True
    return row


def _end_job(session: Session, table: type[CurveRow] | type[ExplorationRow], row_id: int, status: str,
             error: str | None):
    """running -> a final status for a curve or an exploration; returns the row."""
    if status not in FINAL_STATUSES:
        raise ValueError(f"a job ends in a final status, not {status!r}")
    row = _row(session, table, row_id)
    if row.status != "running":
        raise InferScopeError(f"{_KINDS[table]} {row_id} is {row.status} and cannot become {status}")
    row.status, row.error, row.finished_at = status, error, now()
    if status == "done":
        row.progress = 1.0
    return row


def _diagnosis_record(row: DiagnosisRow) -> DiagnosisRecord:
    return DiagnosisRecord(id=row.id, status=row.status, created_at=row.created_at, finished_at=row.finished_at,
                           stage=row.stage, progress=row.progress or 0.0, run_id=row.run_id, kind=row.kind,
                           config=row.config or {},
                           nodes=list(row.nodes or []), summary=dict(row.summary or {}), error=row.error)


def _comparison_record(row: ComparisonRow) -> ComparisonRecord:
    return ComparisonRecord(id=row.id, status=row.status, created_at=row.created_at, finished_at=row.finished_at,
                            stage=row.stage, progress=row.progress or 0.0, run_ids=list(row.run_ids),
                            reference_id=row.reference_id, config=row.config or {}, results=list(row.results or []),
                            blocks=dict(row.blocks or {}), noisy=bool(row.noisy), note=row.note, error=row.error,
                            contention=row.contention)


def _exploration_record(row: ExplorationRow) -> ExplorationRecord:
    return ExplorationRecord(id=row.id, status=row.status, created_at=row.created_at, started_at=row.started_at,
                             finished_at=row.finished_at, config=row.config or {}, strategy=row.strategy,
                             progress=row.progress or 0.0, spent_s=row.spent_s or 0.0, trials=row.trials or 0,
                             error=row.error, notes=list(row.notes or []), worker_pid=row.worker_pid,
                             target=row.target,
                             reused_run_ids=list(row.reused_run_ids or []))


def _curve_record(session: Session, row: CurveRow) -> CurveRecord:
    points = session.scalars(select(CurvePointRow).where(CurvePointRow.curve_id == row.id)
                             .order_by(CurvePointRow.target_rate_rps)).all()
    names = [f.name for f in CurvePoint.__dataclass_fields__.values()]
    return CurveRecord(id=row.id, run_id=row.run_id, status=row.status, created_at=row.created_at,
                       finished_at=row.finished_at, progress=row.progress or 0.0, config=row.config or {},
                       error=row.error, saturation_rps=row.saturation_rps,
                       points=[CurvePoint(**{n: getattr(p, n) for n in names}) for p in points])


def _record(row: Any) -> RunRecord:
    """A RunRecord from a row mapping of the runs table."""
    return RunRecord(**{name: row[name] for name in _PLAIN_FIELDS}, progress=row["progress"] or 0.0,
                     scenario_config=row["scenario_config"] or {}, exploration_id=row["exploration_id"],
                     noisy=bool(row["noisy"]), requeues=row["requeues"] or 0,
                     parent_run_id=row["parent_run_id"], advice=list(row["advice"] or []),
                     model_options=row["model_options"] or {}, recipe=row["recipe"] or [],
                     runtime=row["runtime"] or {}, notes=row["notes"] or [], tags=list(row["tags"] or []),
                     metrics={name: row[name] for name in _METRIC_NAMES})
