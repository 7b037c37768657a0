"""The packaged alembic tree: up, down, up again, and in step with the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from chatlens.auth import db, migrate
from chatlens.auth.tables import Base

TABLES = set(Base.metadata.tables)
SCRIPTS = ScriptDirectory.from_config(migrate.alembic_config())
HEAD = SCRIPTS.get_current_head()


def test_the_tree_has_one_head_and_named_numbered_revisions():
    assert len(SCRIPTS.get_heads()) == 1
    for script in SCRIPTS.walk_revisions():
        assert script.revision.isdigit() and len(script.revision) == 4
        assert script.path.rsplit("/", 1)[-1].startswith(f"{script.revision}_")


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _version(engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(text(f"SELECT version_num FROM {migrate.VERSION_TABLE}")).scalar()


def test_upgrade_downgrade_and_upgrade_again_on_an_empty_database(database_url):
    engine = db.make_engine(database_url)
    try:
        assert _tables(engine) == set()
        migrate.upgrade(engine)
        assert _tables(engine) == TABLES | {"alembic_version_auth"}
        assert _version(engine) == HEAD

        migrate.downgrade(engine, "base")
        assert _tables(engine) == {"alembic_version_auth"}
        assert _version(engine) is None

        migrate.upgrade(engine)
        assert _tables(engine) >= TABLES and _version(engine) == HEAD
        migrate.upgrade(engine)  # at head already: nothing to do, no error
    finally:
        engine.dispose()


def test_the_migrations_match_the_models(database_url):
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_name": migrate.only_auth_tables}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_auth_shares_a_database_with_another_services_alembic_tree(database_url):
    engine = db.make_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
            )
            connection.execute(text("INSERT INTO alembic_version VALUES ('gateway_0007')"))
            connection.execute(text("CREATE TABLE collections (id VARCHAR(36) PRIMARY KEY)"))
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert {"alembic_version", "collections"} <= _tables(engine)
        with engine.connect() as connection:
            other = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
        assert other == "gateway_0007"
    finally:
        engine.dispose()


def test_the_database_enforces_the_role_check_under_its_own_name(database_url):
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        names = {c["name"] for c in inspect(engine).get_check_constraints("memberships")}
        assert "ck_memberships_role" in names
        with pytest.raises(DBAPIError, match="ck_memberships_role"), engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, email, password_hash, created_at, disabled) "
                    "VALUES ('u', 'u@example.com', 'x', '2025-01-01 00:00:00', false)"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO orgs (id, name, created_at) "
                    "VALUES ('o', 'o', '2025-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO memberships (user_id, org_id, role, created_at) "
                    "VALUES ('u', 'o', 'superuser', '2025-01-01 00:00:00')"
                )
            )
    finally:
        engine.dispose()
