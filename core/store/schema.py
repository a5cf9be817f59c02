"""SQLAlchemy 2 typed tables. Metrics are real columns with units in their names."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from core.metrics import METRICS_IN_ORDER, added_in

SCHEMA_VERSION = 13  # the Alembic head revision, as a number (core/store/migrations)
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINAL_STATUSES = ("done", "failed", "cancelled", "interrupted")
ACTIVE_STATUSES = ("queued", "running")  # a job that is waiting or being worked on

# Named constraints, so migrations can refer to them on every database.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}

# Every metric column: name -> help, from the catalogue. Percent columns are 0-100.
METRIC_COLUMNS: dict[str, str] = {m.name: m.help for m in METRICS_IN_ORDER if not m.integer}
INT_METRIC_COLUMNS: dict[str, str] = {m.name: m.help for m in METRICS_IN_ORDER if m.integer}
V3_METRICS = added_in(3)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def job_table_args(*extra: Any) -> tuple[Any, ...]:
    """A job table's constraints: its status among STATUSES, `extra` indexes, ids never reused."""
    return (CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"), *extra,
            {"sqlite_autoincrement": True})  # never reuse the id of a deleted job: exported files name it


class JobColumns:
    """What every job table holds: where it is in its lifecycle, who works on it, where it must run.

    A job is queued, claimed by one worker (running), reports a stage and progress, may be asked to cancel,
    ends in a final status (with an error a user can act on), and goes back to the queue once when its worker
    is lost (`requeues`). Every kind of job (core/store/kinds.py) has these columns, so one store API serves all.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(120))  # the stage and its detail
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[Any] | None] = mapped_column(JSON, default=list)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    target: Mapped[str | None] = mapped_column(String(64), index=True)  # where it must run (None: anywhere local)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(256))
    worker_id: Mapped[int | None] = mapped_column(Integer)  # the registered worker that claimed it
    worker_role: Mapped[str | None] = mapped_column(String(120))  # what that process was, for messages
    requeues: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # back after a lost worker


class RunRow(JobColumns, Base):
    __tablename__ = "runs"
    __table_args__ = job_table_args(
        CheckConstraint("subset_size > 0", name="subset_size_positive"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_model_dataset", "model", "dataset"),
    )

    model: Mapped[str] = mapped_column(String(512))
    model_source: Mapped[str] = mapped_column(String(32))
    model_options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dataset: Mapped[str] = mapped_column(String(64))
    dataset_location: Mapped[str | None] = mapped_column(String(1024))
    subset_size: Mapped[int] = mapped_column(Integer)
    subset_seed: Mapped[int] = mapped_column(Integer)
    subset_split: Mapped[str | None] = mapped_column(String(64))
    calibration_split: Mapped[str | None] = mapped_column(String(128))
    recipe: Mapped[list[Any]] = mapped_column(JSON, default=list)
    runtime: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    scenario: Mapped[str] = mapped_column(String(32), default="single-stream")
    scenario_config: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)         # since schema 3
    exploration_id: Mapped[int | None] = mapped_column(Integer, index=True)                   # since schema 4
    parent_run_id: Mapped[int | None] = mapped_column(Integer)  # since schema 8: the run it was derived from
    advice: Mapped[list[Any] | None] = mapped_column(JSON)       # since schema 8: the doctor's findings
    model_sha256: Mapped[str | None] = mapped_column(String(64))  # since 9: an ONNX file's bytes, in `uploads`

    tags: Mapped[list[Any] | None] = mapped_column(JSON, default=list)                       # since schema 2
    # other processes used the machine beyond the threshold while it timed (figures in the metrics)
    noisy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())           # since schema 6
    engine: Mapped[str | None] = mapped_column(String(64))
    env_fingerprint: Mapped[str | None] = mapped_column(String(32))
    environment: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # One nullable column per metric, named and typed by the metric catalogue (core/metrics.py).
    for _metric in METRICS_IN_ORDER:
        locals()[_metric.name] = mapped_column(Integer if _metric.integer else Float)
    del _metric


class LatencySamples(Base):
    """Raw per-call latencies of a run (kept apart so run listings stay light)."""

    __tablename__ = "latency_samples"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    samples_ms: Mapped[list[Any]] = mapped_column(JSON)
    predictions: Mapped[list[Any] | None] = mapped_column(JSON)  # since schema 8: top-1 class per subset image


class CurveRow(JobColumns, Base):
    """A latency-throughput sweep of one run's configuration (since schema 3)."""

    __tablename__ = "curves"
    __table_args__ = job_table_args()

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saturation_rps: Mapped[float | None] = mapped_column(Float)


class CurvePointRow(Base):
    """One server-scenario measurement of a sweep, stored as soon as it is measured."""

    __tablename__ = "curve_points"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    curve_id: Mapped[int] = mapped_column(ForeignKey("curves.id", ondelete="CASCADE"), index=True)
    target_rate_rps: Mapped[float] = mapped_column(Float)
    achieved_rate_rps: Mapped[float] = mapped_column(Float)
    latency_p50_ms: Mapped[float] = mapped_column(Float)
    latency_p90_ms: Mapped[float] = mapped_column(Float)
    latency_p99_ms: Mapped[float] = mapped_column(Float)
    latency_p999_ms: Mapped[float] = mapped_column(Float)
    over_bound_pct: Mapped[float] = mapped_column(Float)
    completed: Mapped[int] = mapped_column(Integer)
    dropped: Mapped[int] = mapped_column(Integer)
    mean_batch_requests: Mapped[float | None] = mapped_column(Float)


class ExplorationRow(JobColumns, Base):
    """A budgeted search whose trials are ordinary runs carrying its id (since schema 4).

    `spent_s` accumulates the wall time of every session that worked on it, so a resumed
    exploration keeps its minutes budget.
    """

    __tablename__ = "explorations"
    __table_args__ = job_table_args()

    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strategy: Mapped[str | None] = mapped_column(String(32))
    spent_s: Mapped[float] = mapped_column(Float, default=0.0)
    trials: Mapped[int] = mapped_column(Integer, default=0)
    reused_run_ids: Mapped[list[Any] | None] = mapped_column(JSON)  # since schema 8


class ComparisonRow(JobColumns, Base):
    """A paired re-measurement of several runs' configurations in one process (since schema 7)."""

    __tablename__ = "comparisons"
    __table_args__ = job_table_args()

    run_ids: Mapped[list[Any]] = mapped_column(JSON)
    reference_id: Mapped[int] = mapped_column(Integer)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    results: Mapped[list[Any] | None] = mapped_column(JSON)        # one entry per run: ratio, interval, verdict
    blocks: Mapped[dict[str, Any] | None] = mapped_column(JSON)    # run id -> block medians (ms), one per round
    noisy: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    note: Mapped[str | None] = mapped_column(Text)
    # since schema 10: what else the machine did while it timed (Contention.metrics()), quiet or not
    contention: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class DiagnosisRow(JobColumns, Base):
    """Where an INT8 run's accuracy went: per-node error and accuracy recovered in float (since schema 8)."""

    __tablename__ = "diagnoses"
    __table_args__ = job_table_args()

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default="sensitivity")  # sensitivity or profile
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    nodes: Mapped[list[Any] | None] = mapped_column(JSON)      # per node: sensitivity or time, most first
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TargetRow(Base):
    """A machine work may be addressed to, registered by `python -m core worker --target NAME` (since schema 9)."""

    __tablename__ = "targets"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    environment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # CPU, flags, cores, memory, GPUs, libs
    host: Mapped[str | None] = mapped_column(String(256))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WorkerRow(Base):
    """One worker process, of a target or local (no target), with its heartbeat (since schema 9)."""

    __tablename__ = "workers"
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    target: Mapped[str | None] = mapped_column(String(64), index=True)  # since 11: None for a local worker
    host: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int] = mapped_column(Integer)
    accepts_unaddressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    heartbeat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stop_reason: Mapped[str | None] = mapped_column(String(200))


class UploadRow(Base):
    """An ONNX model's bytes, keyed by their SHA-256, so a worker on another machine can fetch them (since 9)."""

    __tablename__ = "uploads"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(256))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
