"""Schema 12: what a text run's inputs were: the real tokens it processed per second (padding left out), the
mean tokens per text and the share of each call that was padding.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
METRICS = ("tokens_per_s", "tokens_mean", "padding_pct")


def upgrade() -> None:
    for name in METRICS:
        op.add_column("runs", sa.Column(name, sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in METRICS:
            batch.drop_column(name)
