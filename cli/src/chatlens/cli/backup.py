"""``chatlens backup`` / ``chatlens restore``: one archive with everything Chatlens keeps.

    databases/<name>/<table>.jsonl   every row of auth's and the gateway's databases, portable:
                                     a SQLite backup restores into MariaDB or PostgreSQL
    index/<org>/<collection>.bundle  each collection's Git repository (``git bundle --all``: every
                                     version and tag), with its .config
    uploads/...                      the upload store (files of jobs not finished yet)
    manifest.json                    what is inside, with each database's schema revision

Not inside, on purpose: the key files (auth's ``jwt-private.pem`` and ``secrets.keys``, the
gateway's ``webhook-secrets.keys``). The provider keys, TOTP and webhook secrets in the rows are
encrypted with them, so an archive that falls into other hands reveals none of them; keep the key
files apart from the archives, and put them in place before restoring elsewhere
(deploy/README.md, "Rotating the secret keys").

Rows are read in one transaction per database, and a bundle is a consistent snapshot of a
repository's committed versions even while the index writes; an ingest job running during the
backup is in no version yet, so take backups when no job runs (or re-upload those files).

Restore goes into an empty place: databases created and migrated to the same revision
(``python -m chatlens.auth migrate``, ``... gateway migrate``, or the chart's migrations Job)
with no rows, and an index folder without those collections. Anything else is refused with the
reason, so a restore never mixes two installations. ``force`` (``chatlens restore --force``)
replaces instead: every row of the target's databases is deleted in the transaction that loads
the backup's (but the audit log, append-only: the backup's events are added after the target's),
every collection repository of the index folder and the upload store are removed,
and what was replaced is said first (:func:`existing`). Schema revisions must still match. Stop
the stack first: a running index keeps the collections it has open.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, MetaData, String, Table, Text, create_engine, func, insert, select
from sqlalchemy import text as sql
from sqlalchemy.engine import Connection, Engine

FORMAT = 1
# Tables the databases refuse to delete from (auth's audit log, by trigger): ``--force`` keeps
# their rows and appends the backup's.
APPEND_ONLY = frozenset({"audit_events"})
ALEMBIC = "alembic_version"  # each service's own table: alembic_version_<service>, ...


class RestoreRefused(RuntimeError):
    """The target is not empty, or not at the backup's schema revision."""


@dataclass(frozen=True)
class Sources:
    """Where an installation keeps its data: database URLs by name, the index and upload folders."""

    databases: dict[str, str]
    index_dir: Path
    upload_dir: Path | None = None


# --- rows as JSON ---------------------------------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((key, raw),) = value.items()
        decoders = {
            "$dt": datetime.fromisoformat,
            "$date": date.fromisoformat,
            "$b64": base64.b64decode,
            "$dec": Decimal,
        }
        if key in decoders:
            return decoders[key](raw)
    return value


def _tables(engine: Engine) -> MetaData:
    metadata = MetaData()
    metadata.reflect(engine)
    return metadata


def _is_version_table(name: str) -> bool:
    return name.startswith(ALEMBIC)


def _revisions(connection: Connection, metadata: MetaData) -> dict[str, str | None]:
    """Each migration version table's revision (auth's and the gateway's may share a database)."""
    return {
        name: connection.execute(sql(f"SELECT version_num FROM {name}")).scalar()
        for name in sorted(metadata.tables)
        if _is_version_table(name)
    }


# --- backup ----------------------------------------------------------------------------------


def backup(sources: Sources, archive: Path) -> dict:
    """Write the archive (a .tar.gz); returns its manifest."""
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "created_at": datetime.now().astimezone().isoformat(),
        "databases": {},
        "collections": [],
        "uploads": 0,
    }
    with tarfile.open(archive, "w:gz") as tar, tempfile.TemporaryDirectory() as scratch:
        for name, url in sources.databases.items():
            manifest["databases"][name] = _dump_database(tar, name, url)
        for repo in _collections(sources.index_dir):
            org, collection = repo.parent.name, repo.name
            bundle = Path(scratch) / f"{org}-{collection}.bundle"
            subprocess.run(
                ["git", "-C", str(repo), "bundle", "create", "-q", str(bundle), "--all"],
                check=True,
                capture_output=True,
            )
            tar.add(bundle, f"index/{org}/{collection}.bundle")
            tar.add(repo / ".git" / "config", f"index/{org}/{collection}.config")
            manifest["collections"].append(f"{org}/{collection}")
        if sources.upload_dir and sources.upload_dir.is_dir():
            for path in sorted(sources.upload_dir.rglob("*")):
                relative = path.relative_to(sources.upload_dir)
                if path.is_file() and not relative.parts[0].startswith("."):
                    tar.add(path, f"uploads/{relative.as_posix()}")
                    manifest["uploads"] += 1
        _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=2).encode())
    return manifest


def _dump_database(tar: tarfile.TarFile, name: str, url: str) -> dict:
    engine = create_engine(url)
    try:
        metadata = _tables(engine)
        counts = {}
        with engine.connect() as connection, connection.begin():
            revisions = _revisions(connection, metadata)
            for table in metadata.sorted_tables:
                if _is_version_table(table.name):
                    continue
                lines = [
                    json.dumps({column: _encode(value) for column, value in row._mapping.items()})
                    for row in connection.execute(select(table))
                ]
                _add_bytes(
                    tar,
                    f"databases/{name}/{table.name}.jsonl",
                    "".join(line + "\n" for line in lines).encode(),
                )
                counts[table.name] = len(lines)
        return {"revisions": revisions, "rows": counts}
    finally:
        engine.dispose()


def _collections(index_dir: Path) -> list[Path]:
    root = index_dir / "collections"
    if not root.is_dir():
        return []
    return sorted(
        repo
        for org in root.iterdir()
        if org.is_dir() and not org.name.startswith(".")
        for repo in org.iterdir()
        if (repo / ".git").is_dir() and not repo.name.startswith(".")
    )


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


# --- restore ---------------------------------------------------------------------------------


def restore(
    archive: Path,
    target: Sources,
    *,
    force: bool = False,
    replacing: Callable[[list[str]], None] = lambda _: None,
) -> dict:
    """Restore the archive into an empty ``target``; returns its manifest. Refuses (and changes
    nothing) when the target holds data, unless ``force``: then ``replacing`` is told what the
    target holds (:func:`existing`) and all of it is replaced. A target at another schema
    revision is refused either way."""
    with tarfile.open(archive, "r:gz") as tar, tempfile.TemporaryDirectory() as scratch:
        tar.extractall(scratch, filter="data")
        unpacked = Path(scratch)
        manifest = json.loads((unpacked / "manifest.json").read_text())
        if manifest.get("format") != FORMAT:
            raise RestoreRefused(f"unknown backup format {manifest.get('format')!r}")
        target = _matched(manifest, target)
        _check_revisions(manifest, target)
        found = existing(manifest, target)
        if found and not force:
            raise RestoreRefused(
                f"the target is not empty ({'; '.join(found)}); restore goes "
                f"into an empty installation, or pass --force to replace it"
            )
        if found:
            replacing(found)
            _clear_files(target)
        cleared: set[str] = set()  # auth and the gateway may share one database: clear it once
        for name in manifest["databases"]:
            url = target.databases[name]
            _load_database(
                unpacked / "databases" / name,
                url,
                clear=bool(found) and url not in cleared,
                append_logs=bool(found),
            )
            cleared.add(url)
        for entry in manifest["collections"]:
            org, collection = entry.split("/")
            path = target.index_dir / "collections" / org / collection
            path.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    "git",
                    "clone",
                    "-q",
                    "--branch",
                    "main",
                    str(unpacked / "index" / org / f"{collection}.bundle"),
                    str(path),
                ],
                check=True,
                capture_output=True,
            )
            # The index's own repository settings (fsync, author, no gc), not the clone's origin.
            shutil.copyfile(
                unpacked / "index" / org / f"{collection}.config", path / ".git" / "config"
            )
        uploads = unpacked / "uploads"
        if target.upload_dir and uploads.is_dir():
            shutil.copytree(uploads, target.upload_dir, dirs_exist_ok=True)
    return manifest


def _matched(manifest: dict, target: Sources) -> Sources:
    """The target's database for each one in the backup; a target with one shared database
    (``database``: auth and the gateway in one) takes them all."""
    databases = dict(target.databases)
    for name in manifest["databases"]:
        if name not in databases and "database" in target.databases:
            databases[name] = target.databases["database"]
    missing = set(manifest["databases"]) - set(databases)
    if missing:
        raise RestoreRefused(f"no target database for {', '.join(sorted(missing))}")
    return Sources(databases, target.index_dir, target.upload_dir)


def _check_revisions(manifest: dict, target: Sources) -> None:
    """Each target database is migrated, to the backup's revisions."""
    for name, saved in manifest["databases"].items():
        engine = create_engine(target.databases[name])
        try:
            metadata = _tables(engine)
            with engine.connect() as connection:
                missing = set(saved["revisions"]) - set(metadata.tables)
                if missing:
                    tables = ", ".join(sorted(missing))
                    raise RestoreRefused(
                        f"{name}: the database is not migrated ({tables} "
                        f"missing); run the migrations first"
                    )
                revisions = _revisions(connection, metadata)
                for table, revision in saved["revisions"].items():
                    if revisions[table] != revision:
                        raise RestoreRefused(
                            f"{name}: {table} is at {revisions[table]}, the "
                            f"backup at {revision}; migrate to that first"
                        )
        finally:
            engine.dispose()


def existing(manifest: dict, target: Sources) -> list[str]:
    """What the target holds that a restore would replace, one line per place ("gateway: 3
    rows in collections, 5 in jobs", "index: 2 collections in ..."); empty when nothing."""
    found = []
    for name in manifest["databases"]:
        engine = create_engine(target.databases[name])
        try:
            metadata = _tables(engine)
            with engine.connect() as connection:
                counts = [
                    (
                        table.name,
                        connection.execute(select(func.count()).select_from(table)).scalar() or 0,
                    )
                    for table in metadata.sorted_tables
                    if not _is_version_table(table.name)
                ]
        finally:
            engine.dispose()
        rows = [
            f"{count} in {table}" + (" (kept: append-only)" if table in APPEND_ONLY else "")
            for table, count in counts
            if count
        ]
        if rows:
            found.append(f"{name}: {sum(c for _, c in counts)} rows ({', '.join(rows)})")
    collections = sorted(
        path for path in (target.index_dir / "collections").glob("*/*") if path.is_dir()
    )
    if collections:
        found.append(f"index: {len(collections)} collections in {target.index_dir}")
    if target.upload_dir and target.upload_dir.is_dir():
        files = sum(1 for path in target.upload_dir.rglob("*") if path.is_file())
        if files:
            found.append(f"uploads: {files} files in {target.upload_dir}")
    return found


def _clear_files(target: Sources) -> None:
    """Remove the index's collection repositories and the upload store (``--force``)."""
    shutil.rmtree(target.index_dir / "collections", ignore_errors=True)
    if target.upload_dir and target.upload_dir.is_dir():
        for path in target.upload_dir.iterdir():
            shutil.rmtree(path) if path.is_dir() else path.unlink()


def _load_database(
    folder: Path, url: str, *, clear: bool = False, append_logs: bool = False
) -> None:
    engine = create_engine(url)
    try:
        metadata = _tables(engine)
        with engine.begin() as connection:  # one transaction: all rows or none
            if clear:  # the target's rows go in the same transaction (children first)
                for table in reversed(metadata.sorted_tables):
                    if not _is_version_table(table.name) and table.name not in APPEND_ONLY:
                        connection.execute(table.delete())
            for table in metadata.sorted_tables:
                path = folder / f"{table.name}.jsonl"
                if _is_version_table(table.name) or not path.exists():
                    continue
                # An append-only log kept by --force gets the backup's entries after its own,
                # numbered anew.
                renumber = append_logs and table.name in APPEND_ONLY
                rows = [
                    {
                        column: _adapt(table, column, _decode(value))
                        for column, value in json.loads(line).items()
                        if not (renumber and column in table.primary_key.columns)
                    }
                    for line in path.read_text().splitlines()
                    if line
                ]
                for start in range(0, len(rows), 1000):
                    connection.execute(insert(table), rows[start : start + 1000])
            if engine.dialect.name == "postgresql":
                _advance_sequences(connection, metadata)
    finally:
        engine.dispose()


def _adapt(table: Table, column: str, value: Any) -> Any:
    """A JSON value for the target's column: MariaDB reflects JSON columns as text, SQLite and
    PostgreSQL as JSON, so a value crosses between the two forms when the databases differ."""
    kind = table.columns[column].type
    if isinstance(kind, JSON) and isinstance(value, str):
        return json.loads(value)
    if isinstance(kind, String | Text) and isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _advance_sequences(connection: Connection, metadata: MetaData) -> None:
    """PostgreSQL's serial counters do not see explicit ids: move each past the restored rows."""
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(
                sql("SELECT pg_get_serial_sequence(:t, :c)"), {"t": table.name, "c": column.name}
            ).scalar()
            if sequence:
                connection.execute(
                    sql(
                        f'SELECT setval(:s, COALESCE((SELECT MAX("{column.name}") FROM '
                        f'"{table.name}"), 0) + 1, false)'
                    ),
                    {"s": sequence},
                )
