"""One database engine recipe for every service: one URL, SQLite (the embedded default),
MariaDB (``mysql+pymysql://``) or PostgreSQL, with the same pool and connection settings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

# MariaDB and PostgreSQL (and whatever sits between) drop idle connections behind the pool's
# back: ping before use, and recycle well under MariaDB's shortest usual wait_timeout.
POOL_RECYCLE_S = 1800
SQLITE_BUSY_TIMEOUT_MS = 30_000


def make_engine(url: str) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created and its pragmas set."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_recycle=POOL_RECYCLE_S)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # gunicorn's threads share the pool; SQLite's own check would refuse that.
    engine = create_engine(url, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # SQLite ignores foreign keys unless asked, per connection.
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets readers (SSE streams, the outbox relay) go on while another thread writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (handlers commit, then answer)."""
    return sessionmaker(engine, expire_on_commit=False)


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query (the readiness check)."""
    with engine.connect() as connection:
        return bool(connection.execute(text("SELECT 1")).scalar() == 1)
