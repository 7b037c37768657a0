"""Alembic environment for the gateway's tables (its own version table, so it can share a DB)."""

from alembic import context
from sqlalchemy import Connection, engine_from_config, pool

from chatlens.gateway.db import Base

VERSION_TABLE = "alembic_version_gateway"

config = context.config
connection = config.attributes.get("connection")


def run() -> None:
    if connection is not None:
        _run_with(connection)
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run_with(conn)


def _run_with(conn: Connection) -> None:
    context.configure(
        connection=conn,
        target_metadata=Base.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
