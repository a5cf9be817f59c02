"""Schema 3: scenario configs, serving and cache metrics, latency-throughput curves.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")
# The metric columns schema 3 added (the catalogue's `since=3` entries, as they were then).
METRICS = ("latency_p999_ms", "achieved_rate_rps", "target_rate_rps", "over_bound_pct", "mean_batch_requests",
           "cache_hit_pct", "cache_hit_p50_ms", "cache_miss_p50_ms")


def _status_check() -> sa.CheckConstraint:
    return sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status")


def upgrade() -> None:
    op.add_column("runs", sa.Column("scenario_config", sa.JSON()))
    for name in METRICS:
        op.add_column("runs", sa.Column(name, sa.Float()))
    op.create_table(
        "curves",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("worker_pid", sa.Integer()),
        sa.Column("worker_host", sa.String(256)),
        sa.Column("saturation_rps", sa.Float()),
        _status_check(),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_curves_run_id"), "curves", ["run_id"])
    op.create_table(
        "curve_points",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("curve_id", sa.Integer(), sa.ForeignKey("curves.id", ondelete="CASCADE"), nullable=False),
        *[sa.Column(name, sa.Float(), nullable=False) for name in
          ("target_rate_rps", "achieved_rate_rps", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
           "latency_p999_ms", "over_bound_pct")],
        sa.Column("completed", sa.Integer(), nullable=False),
        sa.Column("dropped", sa.Integer(), nullable=False),
        sa.Column("mean_batch_requests", sa.Float()),
    )
    op.create_index(op.f("ix_curve_points_curve_id"), "curve_points", ["curve_id"])


def downgrade() -> None:
    op.drop_table("curve_points")
    op.drop_table("curves")
    with op.batch_alter_table("runs") as batch:
        for name in ("scenario_config", *METRICS):
            batch.drop_column(name)
