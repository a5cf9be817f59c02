"""Schema 8: a job's stage may carry a detail ("train · epoch 2 of 6 · 1 min 10 s left": 120 characters);
an exploration records the stored runs it reused as baselines; a run may name the run it was derived
from and carries the doctor's findings and its top-1 class per image; diagnoses (where an INT8 run's accuracy went) are stored.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
STAGED = ("runs", "comparisons")
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


def upgrade() -> None:
    for table in STAGED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("stage", type_=sa.String(120), existing_type=sa.String(32))
    op.add_column("explorations", sa.Column("reused_run_ids", sa.JSON()))
    op.add_column("runs", sa.Column("parent_run_id", sa.Integer()))
    op.add_column("runs", sa.Column("advice", sa.JSON()))
    op.add_column("latency_samples", sa.Column("predictions", sa.JSON()))
    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(120)),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("nodes", sa.JSON()),
        sa.Column("summary", sa.JSON()),
        sa.Column("error", sa.Text()),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("worker_pid", sa.Integer()),
        sa.Column("worker_host", sa.String(256)),
        sa.Column("worker_role", sa.String(120)),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_diagnoses_run_id"), "diagnoses", ["run_id"])


def downgrade() -> None:
    op.drop_table("diagnoses")
    with op.batch_alter_table("latency_samples") as batch:
        batch.drop_column("predictions")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("parent_run_id")
        batch.drop_column("advice")
    with op.batch_alter_table("explorations") as batch:
        batch.drop_column("reused_run_ids")
    for table in STAGED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("stage", type_=sa.String(32), existing_type=sa.String(120))
