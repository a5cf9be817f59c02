"""Schema 8: a job's stage may carry a detail ("train · epoch 2 of 6 · 1 min 10 s left": 120 characters),
and an exploration records the stored runs it reused as baselines.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
STAGED = ("runs", "comparisons")


def upgrade() -> None:
    for table in STAGED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("stage", type_=sa.String(120), existing_type=sa.String(32))
    op.add_column("explorations", sa.Column("reused_run_ids", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("explorations") as batch:
        batch.drop_column("reused_run_ids")
    for table in STAGED:
        with op.batch_alter_table(table) as batch:
            batch.alter_column("stage", type_=sa.String(32), existing_type=sa.String(120))
