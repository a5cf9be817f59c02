"""Schema 5: which command ran a run or a curve, for the message when its process dies.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in ("runs", "curves"):
        # A store upgraded to schema 3 by InferScope's pre-Alembic code may already have it on curves.
        if "worker_role" not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("worker_role", sa.String(120)))


def downgrade() -> None:
    for table in ("runs", "curves"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("worker_role")
