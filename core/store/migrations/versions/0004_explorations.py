"""Schema 4: explorations, and the exploration a run belongs to.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


def upgrade() -> None:
    op.add_column("runs", sa.Column("exploration_id", sa.Integer()))
    op.create_index(op.f("ix_runs_exploration_id"), "runs", ["exploration_id"])
    op.create_table(
        "explorations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("strategy", sa.String(32)),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("spent_s", sa.Float(), nullable=False),
        sa.Column("trials", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("notes", sa.JSON(), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("worker_pid", sa.Integer()),
        sa.Column("worker_host", sa.String(256)),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("explorations")
    op.drop_index(op.f("ix_runs_exploration_id"), "runs")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("exploration_id")
