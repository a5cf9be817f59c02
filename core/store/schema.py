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
    MetaData,
    String,
    Text,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SCHEMA_VERSION = 5
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
FINAL_STATUSES = ("done", "failed", "cancelled", "interrupted")

# Named constraints, so migrations can refer to them on every database.
NAMING = {"ix": "ix_%(column_0_label)s", "uq": "uq_%(table_name)s_%(column_0_name)s",
          "ck": "ck_%(table_name)s_%(constraint_name)s", "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
          "pk": "pk_%(table_name)s"}

# Every metric column: name -> help. Percent columns are 0-100.
METRIC_COLUMNS: dict[str, str] = {
    "latency_first_ms": "first (cold) call, ms",
    "latency_p25_ms": "25th percentile latency per call, ms", "latency_p50_ms": "median latency per call, ms",
    "latency_p75_ms": "75th percentile latency per call, ms", "latency_p90_ms": "90th percentile latency per call, ms",
    "latency_p95_ms": "95th percentile latency per call, ms", "latency_p99_ms": "99th percentile latency per call, ms",
    "latency_mean_ms": "mean latency per call, ms", "latency_std_ms": "standard deviation of latency, ms",
    "timing_seconds": "wall time of the timed loop, s", "throughput_ips": "images per second at the run's batch",
    "top1": "top-1 accuracy, %", "top1_ci_low": "top-1 95% CI low, %", "top1_ci_high": "top-1 95% CI high, %",
    "top5": "top-5 accuracy, %", "top5_ci_low": "top-5 95% CI low, %", "top5_ci_high": "top-5 95% CI high, %",
    "agreement": "top-1 agreement with the FP32 reference, %", "agreement_ci_low": "agreement 95% CI low, %",
    "agreement_ci_high": "agreement 95% CI high, %", "logit_cosine": "mean logit cosine with the FP32 reference",
    "size_mb": "serialized model size, MB", "peak_mem_mb": "peak resident memory during evaluation, MB",
    # since schema 3: serving scenarios and the response cache
    "latency_p999_ms": "99.9th percentile latency per request, ms",
    "achieved_rate_rps": "requests answered per second", "target_rate_rps": "server scenario: target arrival rate, "
    "requests/s", "over_bound_pct": "server scenario: requests over the latency bound (dropped ones included), %",
    "mean_batch_requests": "server scenario: mean requests per model call (dynamic batching)",
    "cache_hit_pct": "response cache: requests answered from the cache, %",
    "cache_hit_p50_ms": "response cache: median latency of hits, ms",
    "cache_miss_p50_ms": "response cache: median latency of misses, ms",
}
V3_METRICS = ("latency_p999_ms", "achieved_rate_rps", "target_rate_rps", "over_bound_pct", "mean_batch_requests",
              "cache_hit_pct", "cache_hit_p50_ms", "cache_miss_p50_ms")
INT_METRIC_COLUMNS = {"latency_count": "timed calls", "eval_samples": "images scored for accuracy"}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SchemaInfo(Base):
    __tablename__ = "schema_info"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class RunRow(Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        CheckConstraint("subset_size > 0", name="subset_size_positive"),
        Index("ix_runs_status", "status"),
        Index("ix_runs_model_dataset", "model", "dataset"),
        {"sqlite_autoincrement": True},  # never reuse the id of a deleted run: exported files name it
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)

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

    error: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    tags: Mapped[list[Any] | None] = mapped_column(JSON, default=list)                       # since schema 2
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # since 2
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(256))
    worker_role: Mapped[str | None] = mapped_column(String(120))                              # since schema 5
    engine: Mapped[str | None] = mapped_column(String(64))
    env_fingerprint: Mapped[str | None] = mapped_column(String(32))
    environment: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    latency_first_ms: Mapped[float | None] = mapped_column(Float)
    latency_p25_ms: Mapped[float | None] = mapped_column(Float)
    latency_p50_ms: Mapped[float | None] = mapped_column(Float)
    latency_p75_ms: Mapped[float | None] = mapped_column(Float)
    latency_p90_ms: Mapped[float | None] = mapped_column(Float)
    latency_p95_ms: Mapped[float | None] = mapped_column(Float)
    latency_p99_ms: Mapped[float | None] = mapped_column(Float)
    latency_mean_ms: Mapped[float | None] = mapped_column(Float)
    latency_std_ms: Mapped[float | None] = mapped_column(Float)
    latency_count: Mapped[int | None] = mapped_column(Integer)
    timing_seconds: Mapped[float | None] = mapped_column(Float)
    throughput_ips: Mapped[float | None] = mapped_column(Float)
    top1: Mapped[float | None] = mapped_column(Float)
    top1_ci_low: Mapped[float | None] = mapped_column(Float)
    top1_ci_high: Mapped[float | None] = mapped_column(Float)
    top5: Mapped[float | None] = mapped_column(Float)
    top5_ci_low: Mapped[float | None] = mapped_column(Float)
    top5_ci_high: Mapped[float | None] = mapped_column(Float)
    eval_samples: Mapped[int | None] = mapped_column(Integer)
    agreement: Mapped[float | None] = mapped_column(Float)
    agreement_ci_low: Mapped[float | None] = mapped_column(Float)
    agreement_ci_high: Mapped[float | None] = mapped_column(Float)
    logit_cosine: Mapped[float | None] = mapped_column(Float)
    size_mb: Mapped[float | None] = mapped_column(Float)
    peak_mem_mb: Mapped[float | None] = mapped_column(Float)
    latency_p999_ms: Mapped[float | None] = mapped_column(Float)       # since schema 3
    achieved_rate_rps: Mapped[float | None] = mapped_column(Float)
    target_rate_rps: Mapped[float | None] = mapped_column(Float)
    over_bound_pct: Mapped[float | None] = mapped_column(Float)
    mean_batch_requests: Mapped[float | None] = mapped_column(Float)
    cache_hit_pct: Mapped[float | None] = mapped_column(Float)
    cache_hit_p50_ms: Mapped[float | None] = mapped_column(Float)
    cache_miss_p50_ms: Mapped[float | None] = mapped_column(Float)


class LatencySamples(Base):
    """Raw per-call latencies of a run (kept apart so run listings stay light)."""

    __tablename__ = "latency_samples"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    samples_ms: Mapped[list[Any]] = mapped_column(JSON)


class CurveRow(Base):
    """A latency-throughput sweep of one run's configuration (since schema 3)."""

    __tablename__ = "curves"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(256))
    worker_role: Mapped[str | None] = mapped_column(String(120))                              # since schema 5
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


class ExplorationRow(Base):
    """A budgeted search whose trials are ordinary runs carrying its id (since schema 4).

    `spent_s` accumulates the wall time of every session that worked on it, so a resumed
    exploration keeps its minutes budget.
    """

    __tablename__ = "explorations"
    __table_args__ = (
        CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    strategy: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    spent_s: Mapped[float] = mapped_column(Float, default=0.0)
    trials: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    worker_host: Mapped[str | None] = mapped_column(String(256))
