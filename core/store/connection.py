"""The store's database: one SQLAlchemy engine per URL, short managed sessions, errors in words, the schema kept
at Alembic's head. Every room of the store (runs, jobs, workers, uploads) builds on `Database`."""
from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, event, inspect, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

from core.errors import ConfigError, StoreError, StoreUnavailable
from core.store import migrations
from core.store.resilience import is_transient
from core.store.schema import SCHEMA_VERSION, Base

BUSY_TIMEOUT_MS = 15_000
DEFAULT_RETRY_S = 300.0
SUPPORTED_URLS = ("sqlite:///path/to/runs.db (the default, in the data directory), or "
                  "postgresql+psycopg://user:password@host/database (needs pip install 'psycopg[binary]')")
DRIVER_PACKAGES = {"psycopg": "'psycopg[binary]'", "psycopg2": "psycopg2-binary", "MySQLdb": "mysqlclient",
                   "pymysql": "PyMySQL"}


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class WorkerIdentity:
    """Who this store's caller is, as the jobs it starts record it: its process, and the registered worker
    (`workers` row) it is, if any. A store is opened as this process; a worker registers and says so
    (`Database.identity`), so no process-wide state decides whose job is whose."""

    pid: int
    host: str
    role: str | None = None        # what the process is, as messages name it if it dies mid-job
    worker_id: int | None = None

    @classmethod
    def this_process(cls, role: str | None = None) -> WorkerIdentity:
        return cls(os.getpid(), socket.gethostname(), role)

    def registered(self, worker_id: int | None) -> WorkerIdentity:
        return replace(self, worker_id=worker_id)


def shown(url: str) -> str:
    """`url` as messages show it: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def explain(exc: Exception, url: str) -> StoreError:
    """A database error as the error a user can act on."""
    message = str(getattr(exc, "orig", exc))
    url = shown(url)
    if "readonly" in message or "read-only" in message:
        return StoreError(f"the run store {url} is read-only; make the file and its folder writable, "
                          "or point INFERSCOPE_DB / INFERSCOPE_HOME elsewhere")
    if "locked" in message:
        return StoreUnavailable(f"the run store {url} stayed locked by another writer for "
                                f"{BUSY_TIMEOUT_MS / 1000:g} s; try again when the other process is done")
    if "not a database" in message or "malformed" in message:
        return StoreError(f"the run store {url} is not a readable SQLite database (corrupt, or another kind of "
                          "file); move it aside and start again, or point INFERSCOPE_DB elsewhere")
    if "unable to open" in message:
        return StoreError(f"cannot open the run store {url}; check that its folder exists and is writable")
    if is_transient(exc):
        first_line = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
        return StoreUnavailable(f"the run store {url} is not answering ({first_line})")
    return StoreError(f"the run store {url} failed: {message}")


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _rollback(session: Session) -> None:
    """Undo a failed transaction; on a connection the server closed there is nothing left to undo."""
    try:
        session.rollback()
    except DBAPIError:
        session.invalidate()  # drop the dead connection from the pool rather than hand it out again


def open_engine(url: str) -> Engine:
    """An engine for `url`, or a ConfigError that says which URL forms work (the password never shown)."""
    url_shown = shown(url)
    try:
        # pre-ping: a pooled connection a server restart closed is replaced, not handed out
        return create_engine(url, future=True, pool_pre_ping=not make_url(url).drivername.startswith("sqlite"))
    except NoSuchModuleError:
        raise ConfigError(f"the run store URL {url_shown} names a database kind SQLAlchemy does not know "
                          f"({make_url(url).drivername!r}); use {SUPPORTED_URLS}") from None
    except ArgumentError:
        raise ConfigError(f"the run store URL {url_shown} (INFERSCOPE_DB) is not a database URL; use "
                          f"{SUPPORTED_URLS}") from None
    except ImportError as exc:
        package = DRIVER_PACKAGES.get(exc.name or "", exc.name)
        raise ConfigError(f"the run store URL {url_shown} needs the {exc.name} driver, which is not installed: "
                          f"pip install {package} — or use {SUPPORTED_URLS}") from None


class Database:
    """The connection every part of the store shares. Each public method of the store is one short transaction
    (`_session`); `identity` is who this caller is, as the jobs it starts record it."""

    def __init__(self, url: str, retry_s: float = DEFAULT_RETRY_S, identity: WorkerIdentity | None = None) -> None:
        self.url = url
        self.retry_s = retry_s
        self.identity = identity or WorkerIdentity.this_process()
        self.engine: Engine = open_engine(url)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):  # URIs name their own
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        try:
            with self._schema_lock():
                self._ensure_schema()
        except SQLAlchemyError as exc:
            raise explain(exc, url) from None

    @contextmanager
    def _schema_lock(self) -> Iterator[None]:
        """One process at a time creates or upgrades a store: a dashboard and a worker started together on a fresh
        data directory would otherwise both find no tables and both create them (the second one failing). SQLite
        takes a lock file beside the database; PostgreSQL an advisory lock in `_ensure_schema`'s transaction."""
        database = self.engine.url.database if self.engine.dialect.name == "sqlite" else None
        if not database or database == ":memory:" or database.startswith("file:"):
            yield
            return
        import fcntl

        try:
            handle = open(f"{database}.schema-lock", "a")  # noqa: SIM115 - held for the block, closed below
        except OSError:  # a folder we may not write to: a read-only store is never created or upgraded here
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _ensure_schema(self) -> None:
        """Create a new store at the head revision, or upgrade an older one; refuse one newer than this code."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # released when the transaction ends (see `_schema_lock`)
                conn.execute(text("SELECT pg_advisory_xact_lock(7262001)"))
            tables = set(inspect(conn).get_table_names())
            revision = migrations.current_revision(conn)
            if revision is None and "schema_info" in tables:  # a store from before Alembic (schema 1 to 5)
                version = int(conn.execute(text("SELECT value FROM schema_info WHERE key = 'schema_version'"))
                              .scalar_one())
                revision = migrations.revision_of(version)
                migrations.stamp(conn, revision)
            if revision is None:
                if "runs" in tables:
                    raise StoreError(f"{shown(self.url)} holds a runs table but no schema version; it was not made "
                                     "by InferScope — point INFERSCOPE_DB elsewhere")
                Base.metadata.create_all(conn)
                migrations.stamp(conn, "head")
                return
            if revision not in migrations.revisions():
                raise StoreError(f"the run store {shown(self.url)} has schema version {int(revision)}, newer than "
                                 f"this InferScope understands ({SCHEMA_VERSION}); upgrade InferScope")
            migrations.upgrade(conn)

    def schema_version(self) -> int:
        """The store's schema version: its Alembic revision as a number."""
        with self.engine.connect() as conn:
            return int(migrations.current_revision(conn))

    @contextmanager
    def _session(self) -> Iterator[Session]:
        session = self._sessions()
        try:
            yield session
            session.commit()
        except DBAPIError as exc:
            _rollback(session)
            if isinstance(exc, OperationalError) or is_transient(exc):
                raise explain(exc, self.url) from None
            raise
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
