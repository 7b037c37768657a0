"""Alembic environment of the auth service.

Run from code (:mod:`chatlens.auth.migrate`), it receives an open connection. Run from the
``alembic`` CLI (``services/auth/alembic.ini``), it connects to ``sqlalchemy.url`` if the ini or
``-x url=...`` gives one, else to the service's own ``DATABASE_URL`` setting.
"""

from __future__ import annotations

import logging.config

from alembic import context

from chatlens.auth.db import make_engine
from chatlens.auth.migrate import VERSION_TABLE, only_auth_tables
from chatlens.auth.tables import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        include_name=only_auth_tables,
        compare_type=True,
        **kwargs,
    )


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if url:
        return url
    from chatlens.auth.config import AuthSettings

    return AuthSettings().database_url


def run_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def _run(connection) -> None:
    # Batch mode lets later migrations ALTER tables on SQLite (copy-and-move).
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if config.config_file_name and config.attributes.get("connection") is None:
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

if context.is_offline_mode():
    run_offline()
else:
    run_online()
