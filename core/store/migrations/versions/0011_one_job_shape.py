"""Schema 11: every job table has the same job columns (core/store/schema.py `JobColumns`), so one store API
queues, claims, watches, cancels, ends and requeues every kind: curves gain a start time, a stage, a cancel flag
and notes; explorations a stage and the role of their process; comparisons and diagnoses notes. A local worker
registers like a target's (its `workers.target` is empty), so one heartbeat rule finds every lost worker. The
schema version is Alembic's revision alone: `schema_info` goes.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"


def upgrade() -> None:
    with op.batch_alter_table("curves") as batch:
        batch.add_column(sa.Column("started_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("stage", sa.String(120)))
        batch.add_column(sa.Column("cancel_requested", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("notes", sa.JSON()))
    with op.batch_alter_table("explorations") as batch:
        batch.add_column(sa.Column("stage", sa.String(120)))
        batch.add_column(sa.Column("worker_role", sa.String(120)))
        batch.alter_column("notes", existing_type=sa.JSON(), nullable=True)
    for table in ("comparisons", "diagnoses"):
        op.add_column(table, sa.Column("notes", sa.JSON()))
    with op.batch_alter_table("runs") as batch:
        batch.alter_column("notes", existing_type=sa.JSON(), nullable=True)
    with op.batch_alter_table("workers") as batch:
        batch.alter_column("target", existing_type=sa.String(64), nullable=True)
    if "schema_info" in sa.inspect(op.get_bind()).get_table_names():
        op.drop_table("schema_info")


def downgrade() -> None:
    op.create_table("schema_info", sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.String(256), nullable=False))
    op.execute("INSERT INTO schema_info (key, value) VALUES ('schema_version', '10')")
    op.execute("DELETE FROM workers WHERE target IS NULL")
    with op.batch_alter_table("workers") as batch:
        batch.alter_column("target", existing_type=sa.String(64), nullable=False)
    for table in ("comparisons", "diagnoses"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("notes")
    with op.batch_alter_table("explorations") as batch:
        batch.drop_column("worker_role")
        batch.drop_column("stage")
    with op.batch_alter_table("curves") as batch:
        for column in ("notes", "cancel_requested", "stage", "started_at"):
            batch.drop_column(column)
