"""Schema 9: targets (the machines work may be addressed to), their workers' heartbeats, ONNX bytes in the
store (`uploads`), and on every job the target it must run on, the worker that claimed it and how often it
was put back in the queue after its worker was lost; a run records its ONNX file's SHA-256.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
JOBS = ("runs", "curves", "explorations", "comparisons", "diagnoses")


def upgrade() -> None:
    for table in JOBS:
        op.add_column(table, sa.Column("target", sa.String(64)))
        op.add_column(table, sa.Column("worker_id", sa.Integer()))
        op.add_column(table, sa.Column("requeues", sa.Integer(), nullable=False, server_default="0"))
        op.create_index(op.f(f"ix_{table}_target"), table, ["target"])
    op.add_column("runs", sa.Column("model_sha256", sa.String(64)))
    op.create_table(
        "targets",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("environment", sa.JSON(), nullable=False),
        sa.Column("host", sa.String(256)),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(64), nullable=False),
        sa.Column("host", sa.String(256), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("accepts_unaddressed", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.Column("stop_reason", sa.String(200)),
        sqlite_autoincrement=True,
    )
    op.create_index(op.f("ix_workers_target"), "workers", ["target"])
    op.create_table(
        "uploads",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("uploads")
    op.drop_table("workers")
    op.drop_table("targets")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("model_sha256")
    for table in JOBS:
        op.drop_index(op.f(f"ix_{table}_target"), table_name=table)
        with op.batch_alter_table(table) as batch:
            for column in ("target", "worker_id", "requeues"):
                batch.drop_column(column)
