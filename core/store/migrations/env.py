"""Alembic's environment: migrate on the connection the store hands over (never a URL of its own)."""
from alembic import context

from core.store.schema import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("InferScope runs its migrations itself: open the store (python -m core runs) to upgrade it")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
