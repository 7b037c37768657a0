"""``chatlens backup`` / ``restore``: an installation's databases (made by the services' own
migrations and commands), a collection's Git repository with a real segment, and its uploads go
into one archive and come back in a fresh place, into SQLite or PostgreSQL: the user signs in
with the same password, every row is there, the segment's nearest neighbour of a message is that
message, every version and tag is there. A restore onto data is refused and changes nothing,
unless forced: then it says what it replaces and the target is the backup again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import MetaData, create_engine, select

from chatlens.cli import backup
from chatlens.cli.__main__ import main
from chatlens.shared.testing import throwaway_postgres

PASSWORD = "correct horse battery staple 42"


def _run(data: Path, url: str | None, *args: str) -> None:
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": "8",
        "ARGON2_PARALLELISM": "1",
    }
    if url:
        env["DATABASE_URL"] = url
    done = subprocess.run(
        [sys.executable, "-m", *args], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr


def _migrate(data: Path, url: str | None = None) -> None:
    _run(data, url, "chatlens.auth", "migrate")
    _run(data, url, "chatlens.gateway", "migrate")


def _rows(url: str) -> dict[str, list[tuple]]:
    engine = create_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        with engine.connect() as connection:
            return {
                table.name: sorted(
                    (tuple(str(v) for v in row) for row in connection.execute(select(table))),
                    key=str,
                )
                for table in metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _segment_collection(index_dir: Path) -> Path:
    from chatlens.index.storage.collection import Collection, NewSegment
    from chatlens.shared.schemas import ChatMessage

    path = index_dir / "collections" / "org-1" / "coll-1"
    collection = Collection.create(path, dim=8)
    messages = [
        ChatMessage(
            message_id=f"m{i}",
            platform="whatsapp",
            chat="Team",
            sender="Marta",
            sent_at=datetime(2025, 2, 3, 9, i, tzinfo=UTC),
            tz_assumption="UTC",
            text=text,
            seq=i,
            source_file="chat.txt",
        )
        for i, text in enumerate(["Booked the venue in Lisbon", "great, thanks!"])
    ]
    vectors = np.random.default_rng(7).normal(size=(2, 8)).astype("float32")
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    collection.add_version(
        "job-1", NewSegment(messages, ["m0", "m1"], vectors), {"messages": 2}, "an import"
    )
    return path


@pytest.fixture(params=["sqlite", "postgres"])
def target_url(request, tmp_path):
    if request.param == "sqlite":
        yield None  # the services' own SQLite files under the target's DATA_DIR
        return
    with throwaway_postgres("restore") as url:
        yield url


def _table(connection, name: str):
    metadata = MetaData()
    metadata.reflect(connection, only=[name])
    return metadata.tables[name]


def test_backup_then_restore_into_a_fresh_place_finds_everything(tmp_path, target_url, capsys):
    source, target = tmp_path / "source", tmp_path / "target"
    _migrate(source)
    _run(
        source,
        None,
        "chatlens.auth",
        "admin",
        "create-user",
        "ada@example.com",
        "--password",
        PASSWORD,
    )
    _run(source, None, "chatlens.auth", "admin", "create-org", "Team", "--owner", "ada@example.com")
    gateway_url = f"sqlite:///{source / 'gateway' / 'gateway.db'}"
    engine = create_engine(gateway_url)
    metadata = MetaData()
    metadata.reflect(engine)
    with engine.begin() as connection:
        connection.execute(
            metadata.tables["collections"].insert(),
            {
                "id": "coll-1",
                "org_id": "org-1",
                "name": "Team",
                "description": "",
                "version": 1,
                "created_by": "u1",
                "created_at": datetime(2025, 2, 3, 9, 0),
            },
        )
        connection.execute(
            metadata.tables["jobs"].insert(),
            {
                "id": "job-1",
                "org_id": "org-1",
                "collection_id": "coll-1",
                "kind": "ingest",
                "filename": "chat.txt",
                "upload_key": "org-1/job-1/chat.txt",
                "sha256": "0" * 64,
                "size": 10,
                "status": "succeeded",
                "done": 2,
                "total": 2,
                "version": 1,
                "stats": {"messages": 2, "chats": ["Team"]},
                "created_by": "u1",
                "created_at": datetime(2025, 2, 3, 9, 0),
                "updated_at": datetime(2025, 2, 3, 9, 1),
            },
        )
        connection.execute(
            metadata.tables["outbox"].insert(),
            {
                "message_id": "x" * 32,
                "message_type": "JobQueued",
                "body": '{"a": 1}',
                "created_at": datetime(2025, 2, 3, 9, 0),
                "attempts": 0,
            },
        )
    engine.dispose()
    repo = _segment_collection(source / "index")
    (source / "uploads" / "org-1" / "job-2").mkdir(parents=True)
    (source / "uploads" / "org-1" / "job-2" / "chat.txt").write_text("a pending upload")

    archive = tmp_path / "backup.tar.gz"
    assert main(["backup", str(archive), "--data-dir", str(source)]) == 0

    _migrate(target, target_url)
    urls = (
        [target_url] * 2
        if target_url
        else [
            f"sqlite:///{target / 'auth' / 'auth.db'}",
            f"sqlite:///{target / 'gateway' / 'gateway.db'}",
        ]
    )
    options = [
        "--data-dir",
        str(target),
        "--auth-database-url",
        urls[0],
        "--gateway-database-url",
        urls[1],
    ]
    assert main(["restore", str(archive), *options]) == 0

    # Every row, in the other database too.
    restored = _rows(urls[0]) if target_url else {**_rows(urls[0]), **_rows(urls[1])}
    original = {**_rows(f"sqlite:///{source / 'auth' / 'auth.db'}"), **_rows(gateway_url)}
    for table in ("users", "orgs", "memberships", "audit_events", "collections", "jobs", "outbox"):
        assert len(restored[table]) == len(original[table]) > 0, table
    # The user signs in with the password of the original installation.
    from chatlens.auth.app import create_app
    from chatlens.auth.config import AuthSettings

    app = create_app(
        AuthSettings(
            data_dir=target,
            database_url=urls[0],
            auto_migrate=False,
            argon2_time_cost=1,
            argon2_memory_kib=8,
            argon2_parallelism=1,
        )
    )
    login = app.test_client().post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert login.status_code == 200, login.json
    # The collection: same versions and tags, and its segment answers a vector search.
    from chatlens.index.storage.collection import Collection
    from chatlens.index.storage.segment import Segment

    copy = Collection(target / "index" / "collections" / "org-1" / "coll-1")
    assert copy.exists() and copy.manifest() == Collection(repo).manifest()
    assert [h[:3] for h in copy.history()] == [h[:3] for h in Collection(repo).history()]
    (entry,) = copy.manifest().segments
    segment = Segment.load(copy.segment_path(entry.id))
    original_segment = Segment.load(Collection(repo).segment_path(entry.id))
    query = original_segment.index.reconstruct(0).reshape(1, -1)
    _, found = segment.index.search(query, 1)
    assert segment.vector_ids[found[0][0]] == "m0"
    assert (target / "uploads" / "org-1" / "job-2" / "chat.txt").read_text() == "a pending upload"

    # Again onto the restored data: refused, nothing changed.
    before = _rows(urls[0])
    with pytest.raises(backup.RestoreRefused, match="rows"):
        backup.restore(
            archive, backup.Sources({"auth": urls[0], "gateway": urls[1]}, target / "index")
        )
    assert _rows(urls[0]) == before
    assert main(["restore", str(archive), *options]) == 1

    # With --force it says what it replaces, then the target is the backup again: a collection
    # made since (a row and its repository) is gone, the backup's are back.
    gateway_target = create_engine(urls[1])
    with gateway_target.begin() as connection:
        connection.execute(
            _table(connection, "collections").insert(),
            {
                "id": "coll-2",
                "org_id": "org-1",
                "name": "Later",
                "description": "",
                "version": 0,
                "created_by": "u1",
                "created_at": datetime(2025, 3, 1, 9, 0),
            },
        )
    gateway_target.dispose()
    (target / "index" / "collections" / "org-1" / "coll-2").mkdir(parents=True)
    audit_before = len(_rows(urls[0])["audit_events"])
    capsys.readouterr()
    assert main(["restore", str(archive), *options, "--force"]) == 0
    said = capsys.readouterr().err
    assert "replacing what the target holds" in said
    assert "in collections" in said and "index: 2 collections" in said, said
    restored = _rows(urls[0]) if target_url else {**_rows(urls[0]), **_rows(urls[1])}
    assert [row[0] for row in restored["collections"]] == ["coll-1"]
    assert "in audit_events (kept: append-only)" in said
    # The audit log is append-only: the target's events stay, the backup's are added after.
    assert len(restored["audit_events"]) == audit_before + len(original["audit_events"])
    assert len(restored["users"]) == len(original["users"])
    assert not (target / "index" / "collections" / "org-1" / "coll-2").exists()
    assert (
        Collection(target / "index" / "collections" / "org-1" / "coll-1").manifest()
        == Collection(repo).manifest()
    )


def test_restore_refuses_a_database_at_another_revision_or_not_migrated(tmp_path):
    source = tmp_path / "source"
    _migrate(source)
    archive = tmp_path / "backup.tar.gz"
    manifest = backup.backup(
        backup.Sources({"auth": f"sqlite:///{source / 'auth' / 'auth.db'}"}, source / "index"),
        archive,
    )
    assert all(manifest["databases"]["auth"]["revisions"].values())
    with pytest.raises(backup.RestoreRefused, match="not migrated"):
        backup.restore(
            archive,
            backup.Sources({"auth": f"sqlite:///{tmp_path / 'new.db'}"}, tmp_path / "index"),
        )
    with pytest.raises(backup.RestoreRefused, match="no target database"):
        backup.restore(archive, backup.Sources({}, tmp_path / "index"))
    assert json.loads(json.dumps(manifest)) == manifest
