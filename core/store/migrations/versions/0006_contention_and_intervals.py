"""Schema 6: what else the machine did while a run timed (and whether that made it noisy), and
distribution-free 95% intervals of p50, p90 and p99.

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
METRICS = (*(f"latency_p{q}_ci_{end}_ms" for q in (50, 90, 99) for end in ("low", "high")),
           "other_cpu_pct", "steal_pct", "load_avg_1m", "cpu_mhz")


def upgrade() -> None:
    for name in METRICS:
        op.add_column("runs", sa.Column(name, sa.Float()))
    op.add_column("runs", sa.Column("noisy", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        for name in ("noisy", *METRICS):
            batch.drop_column(name)
