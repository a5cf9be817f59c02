"""Schema 1: runs, latency samples and schema_info, as InferScope made them before Alembic.

Revision ID: 0001
A store is never built by upgrading from nothing: a new one is made from the current model and
stamped at the head; a store at schema 1 is stamped here and upgraded from here.
"""
revision = "0001"
down_revision = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
