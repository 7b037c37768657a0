"""Alembic, driven from code: the migration tree lives inside the package.

Auth keeps its own version table (``alembic_version_auth``), so it can share a database with
other services that run their own alembic trees.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

from chatlens.auth.models import Base

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version_auth"
# Replicas starting together must not run the same DDL at once (MariaDB only; SQLite is local).
LOCK_NAME = "chatlens_auth_migrations"
LOCK_TIMEOUT_S = 300


def only_auth_tables(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic's ``include_name``: the database may hold other services' tables; leave them be."""
    return type_ != "table" or name in Base.metadata.tables


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic Config for the packaged tree; ``connection`` is handed to env.py."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (the newest by default)."""
    with engine.begin() as connection, _migration_lock(connection):
        log.info("upgrading the auth schema", extra={"revision": revision})
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the schema back to ``revision`` (``base`` drops every auth table)."""
    with engine.begin() as connection, _migration_lock(connection):
        log.info("downgrading the auth schema", extra={"revision": revision})
        command.downgrade(alembic_config(connection), revision)


class _migration_lock:  # noqa: N801 - used as a context manager, reads like one
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.active = connection.dialect.name in ("mysql", "mariadb")

    def __enter__(self) -> None:
        if not self.active:
            return
        got = self.connection.exec_driver_sql(
            f"SELECT GET_LOCK('{LOCK_NAME}', {LOCK_TIMEOUT_S})"
        ).scalar()
        if got != 1:
            raise RuntimeError(f"could not take the migration lock {LOCK_NAME!r}")

    def __exit__(self, *exc_info) -> None:
        if self.active:
            self.connection.exec_driver_sql(f"SELECT RELEASE_LOCK('{LOCK_NAME}')")
