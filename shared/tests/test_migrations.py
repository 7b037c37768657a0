"""The shared migration runner: two processes upgrading one database at the same moment (two
replicas starting together) take turns under the lock, so the migration runs exactly once and
neither fails; on SQLite (a file lock), the real MariaDB (GET_LOCK) and the real PostgreSQL
(an advisory lock)."""

import multiprocessing
import textwrap
import time

import pytest
from sqlalchemy import inspect, text

from chatlens.shared import db, migrations
from chatlens.shared.testing import throwaway_mariadb, throwaway_postgres

LOCK = "chatlens_test_migrations"
ENV = """
from alembic import context
connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None,
                  version_table="alembic_version_locktest")
with context.begin_transaction():
    context.run_migrations()
"""
# The migration takes a while and notes who ran it: without the lock both processes would, and
# the second CREATE TABLE would fail.
REVISION = """
import os, time
from pathlib import Path
import sqlalchemy as sa
from alembic import op
revision, down_revision = "0001_things", None
def upgrade():
    Path(os.environ["RAN_LOG"]).open("a").write(f"start {os.getpid()}\\n")
    time.sleep(1.5)
    op.create_table("things", sa.Column("id", sa.Integer, primary_key=True))
    Path(os.environ["RAN_LOG"]).open("a").write(f"end {os.getpid()}\\n")
def downgrade():
    op.drop_table("things")
"""


@pytest.fixture
def tree(tmp_path):
    folder = tmp_path / "tree"
    (folder / "versions").mkdir(parents=True)
    (folder / "env.py").write_text(ENV)
    (folder / "script.py.mako").write_text("")
    (folder / "versions" / "0001_things.py").write_text(textwrap.dedent(REVISION))
    return folder


@pytest.fixture(params=["sqlite", "mariadb", "postgresql"])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    throwaway = throwaway_mariadb if request.param == "mariadb" else throwaway_postgres
    with throwaway("mig_test") as url:
        yield url


def _upgrade(url: str, tree: str, ran_log: str, start_at: float) -> None:
    import os
    from pathlib import Path

    os.environ["RAN_LOG"] = ran_log
    engine = db.make_engine(url)
    time.sleep(max(0.0, start_at - time.time()))  # both start at the same moment
    migrations.upgrade(engine, Path(tree), LOCK)
    engine.dispose()


def test_two_replicas_upgrading_at_once_migrate_exactly_once(database_url, tree, tmp_path):
    ran_log = tmp_path / "ran.log"
    ran_log.touch()
    spawn = multiprocessing.get_context("spawn")
    start_at = time.time() + 3  # after both interpreters have started
    workers = [
        spawn.Process(target=_upgrade, args=(database_url, str(tree), str(ran_log), start_at))
        for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert [line.split()[0] for line in ran_log.read_text().splitlines()] == ["start", "end"]
    engine = db.make_engine(database_url)
    with engine.connect() as connection:
        version = connection.execute(text("SELECT version_num FROM alembic_version_locktest"))
        assert version.scalars().all() == ["0001_things"]
    assert "things" in inspect(engine).get_table_names()
    engine.dispose()


def test_the_lock_is_held_by_one_holder_at_a_time(database_url):
    engine = db.make_engine(database_url)
    spawn = multiprocessing.get_context("spawn")
    with migrations.migration_lock(engine, LOCK):
        other = spawn.Process(target=_hold, args=(database_url,))
        other.start()
        time.sleep(2)
        assert other.is_alive(), "the second holder did not wait for the first"
    other.join(30)
    assert other.exitcode == 0
    engine.dispose()


def _hold(url: str) -> None:
    engine = db.make_engine(url)
    with migrations.migration_lock(engine, LOCK):
        pass
    engine.dispose()
