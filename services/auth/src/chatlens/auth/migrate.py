"""Alembic, driven from code: the migration tree lives inside the package.

Auth keeps its own version table (``alembic_version_auth``), so it can share a database with
other services that run their own alembic trees.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic.config import Config
from sqlalchemy import Connection, Engine

from chatlens.auth.tables import Base
from chatlens.shared import migrations

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_auth"
# Replicas starting together must not run the same DDL at once (chatlens.shared.migrations).
LOCK_NAME = "chatlens_auth_migrations"


def only_auth_tables(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: the database may hold other services' tables; leave them be."""
    return type_ != "table" or name in Base.metadata.tables


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged tree; ``connection`` is handed to env.py."""
    return migrations.alembic_config(MIGRATIONS_DIR, connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    migrations.upgrade(engine, MIGRATIONS_DIR, LOCK_NAME, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` drops every auth table)."""
    migrations.downgrade(engine, MIGRATIONS_DIR, LOCK_NAME, revision)
