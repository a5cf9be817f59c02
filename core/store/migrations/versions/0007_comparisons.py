"""Schema 7: paired re-measurements (comparisons) of several runs' configurations.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
STATUSES = ("queued", "running", "done", "failed", "cancelled", "interrupted")


def upgrade() -> None:
    op.create_table(
        "comparisons",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("stage", sa.String(32)),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("run_ids", sa.JSON(), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON()),
        sa.Column("blocks", sa.JSON()),
        sa.Column("noisy", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("note", sa.Text()),
        sa.Column("error", sa.Text()),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("worker_pid", sa.Integer()),
        sa.Column("worker_host", sa.String(256)),
        sa.Column("worker_role", sa.String(120)),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    op.drop_table("comparisons")
