"""One migration runner for every service: alembic from code, under a lock, so that replicas
starting together never run the same DDL at once.

The lock is the database's own where it has one: ``GET_LOCK`` on MariaDB/MySQL, a session
advisory lock on PostgreSQL. SQLite has no such lock, and a SQLite file is only ever shared by
processes on one machine, so there it is an exclusive ``flock`` on a file beside the database.
Each service keeps its own tree and version table, so services may share one database.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

log = logging.getLogger(__name__)

LOCK_TIMEOUT_S = 300


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock for longer than ``LOCK_TIMEOUT_S``."""


def alembic_config(script_location: Path, connection: Connection | None = None) -> Config:
    """An alembic Config for a packaged tree; ``connection`` is handed to its env.py."""
    config = Config()
    config.set_main_option("script_location", str(script_location))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, script_location: Path, lock_name: str, revision: str = "head") -> None:
    """Bring the schema to ``revision`` while holding the lock ``lock_name``."""
    with migration_lock(engine, lock_name), engine.begin() as connection:
        log.info("upgrading the schema", extra={"tree": lock_name, "revision": revision})
        command.upgrade(alembic_config(script_location, connection), revision)


def downgrade(engine: Engine, script_location: Path, lock_name: str, revision: str) -> None:
    """Take the schema back to ``revision`` while holding the lock ``lock_name``."""
    with migration_lock(engine, lock_name), engine.begin() as connection:
        log.info("downgrading the schema", extra={"tree": lock_name, "revision": revision})
        command.downgrade(alembic_config(script_location, connection), revision)


@contextmanager
def migration_lock(engine: Engine, name: str) -> Iterator[None]:
    """Held by one process at a time across every replica that uses ``engine``'s database."""
    dialect = engine.dialect.name
    if dialect == "sqlite":
        with _file_lock(engine, name):
            yield
        return
    # The lock belongs to this connection's session; the migration runs on another one.
    params: dict[str, object]
    with engine.connect() as holder:
        if dialect in ("mysql", "mariadb"):
            got = holder.execute(
                text("SELECT GET_LOCK(:n, :t)"), {"n": name, "t": LOCK_TIMEOUT_S}
            ).scalar()
            release, params = text("SELECT RELEASE_LOCK(:n)"), {"n": name}
        elif dialect == "postgresql":
            # A wait longer than this raises (lock_timeout covers advisory locks too).
            holder.execute(text(f"SET lock_timeout = '{LOCK_TIMEOUT_S}s'"))
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _key(name)})
            got = 1
            release, params = text("SELECT pg_advisory_unlock(:k)"), {"k": _key(name)}
        else:
            # SQLite, MariaDB/MySQL and PostgreSQL are the databases Chatlens runs on.
            raise ValueError(f"migrations run on SQLite, MariaDB or PostgreSQL, not {dialect}")
        holder.commit()
        if got != 1:
            raise MigrationLockTimeout(f"could not take the migration lock {name!r}")
        try:
            yield
        finally:
            holder.execute(release, params)
            holder.commit()


def _key(name: str) -> int:
    """PostgreSQL's advisory locks take a 64-bit integer: a stable one from the name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def _file_lock(engine: Engine, name: str) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield  # a private in-memory database: nobody else can migrate it
        return
    path = Path(database).with_name(f"{Path(database).name}.{name}.lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
