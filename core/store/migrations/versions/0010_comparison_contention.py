"""Schema 10: a paired re-measurement keeps what else the machine did while it timed (other processes' CPU,
steal, load, frequency), quiet or not, so every quoted paired figure can carry it.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.add_column("comparisons", sa.Column("contention", sa.JSON()))


def downgrade() -> None:
    with op.batch_alter_table("comparisons") as batch:
        batch.drop_column("contention")
