"""Schema migrations with Alembic: one revision file per schema version (`versions/NNNN_*.py`).

A new store is made from the current model (`Base.metadata.create_all`) and stamped at the head
revision. A store from before Alembic (schema 1 to 5, with only `schema_info`) is stamped at its
schema version's revision first, then upgraded like any other (schema 11 drops `schema_info`: the
revision alone is the version). Revision ids are the schema version, zero-padded: schema 5 is "0005".
"""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

HERE = Path(__file__).resolve().parent


def revision_of(version: int) -> str:
    """The Alembic revision of a schema version: 5 -> "0005"."""
    return f"{version:04d}"


def _config(conn: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = conn  # env.py migrates on this connection, inside its transaction
    return config


def head_revision() -> str:
    """The newest revision in `versions/`."""
    return ScriptDirectory(str(HERE)).get_current_head()


def revisions() -> list[str]:
    """Every revision from the base to the head, in upgrade order."""
    script = ScriptDirectory(str(HERE))
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current_revision(conn: Connection) -> str | None:
    """The revision a store is stamped at; None for a store from before Alembic."""
    if "alembic_version" not in inspect(conn).get_table_names():
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def stamp(conn: Connection, revision: str) -> None:
    """Mark a store as being at `revision` ("head": a store just made from the current model)."""
    command.stamp(_config(conn), revision)


def upgrade(conn: Connection) -> None:
    """Bring a stamped store to the head revision."""
    if current_revision(conn) != head_revision():
        command.upgrade(_config(conn), "head")
