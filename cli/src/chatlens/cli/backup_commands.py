"""``chatlens backup ARCHIVE`` and ``chatlens restore ARCHIVE`` (:mod:`chatlens.cli.backup`).

Where the data is: ``--data-dir`` (``DATA_DIR``; the local stack's ``var/stack/data``) holds the
SQLite databases, the index and the uploads unless ``--auth-database-url`` and
``--gateway-database-url`` (``AUTH_DATABASE_URL``, ``GATEWAY_DATABASE_URL``, or ``DATABASE_URL``
for both), ``--index-dir`` and ``--upload-dir`` say otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path

COMMANDS = ("backup", "restore")


def add_commands(sub) -> None:
    for name, text in (
        ("backup", "write databases, index repositories and uploads to ARCHIVE"),
        ("restore", "restore ARCHIVE into an empty, migrated installation"),
    ):
        command = sub.add_parser(name, help=text)
        command.add_argument("archive", type=Path, help="a .tar.gz file")
        command.add_argument("--data-dir", type=Path)
        command.add_argument("--auth-database-url")
        command.add_argument("--gateway-database-url")
        command.add_argument("--index-dir", type=Path)
        command.add_argument("--upload-dir", type=Path)
        if name == "restore":
            command.add_argument(
                "--force",
                action="store_true",
                help="replace what the target holds (every row of its databases but the "
                "append-only audit log, which gets the backup's events added; its index "
                "collections and uploads; listed first) instead of refusing",
            )


def sources(args: argparse.Namespace, env: Mapping[str, str]):
    """The installation's data places, from the options, then the environment, then DATA_DIR."""
    from chatlens.cli.backup import Sources

    data = (args.data_dir or Path(env.get("DATA_DIR", "var/stack/data"))).resolve()
    shared = env.get("DATABASE_URL")
    auth = (
        args.auth_database_url
        or env.get("AUTH_DATABASE_URL")
        or shared
        or f"sqlite:///{data / 'auth' / 'auth.db'}"
    )
    gateway = (
        args.gateway_database_url
        or env.get("GATEWAY_DATABASE_URL")
        or shared
        or f"sqlite:///{data / 'gateway' / 'gateway.db'}"
    )
    # Both services in one database (one DATABASE_URL): its tables are backed up once.
    databases = {"database": auth} if auth == gateway else {"auth": auth, "gateway": gateway}
    return Sources(
        databases=databases,
        index_dir=args.index_dir or data / "index",
        upload_dir=args.upload_dir or Path(env.get("UPLOAD_DIR", data / "uploads")),
    )


def _say_replaced(found: list[str]) -> None:
    print("restore --force: replacing what the target holds:", file=sys.stderr)
    for line in found:
        print(f"  {line}", file=sys.stderr)


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    from chatlens.cli import backup

    where = sources(args, env)
    if args.command == "backup":
        manifest = backup.backup(where, args.archive)
    else:
        try:
            manifest = backup.restore(
                args.archive, where, force=args.force, replacing=_say_replaced
            )
        except backup.RestoreRefused as exc:
            print(f"error: restore refused: {exc}", file=sys.stderr)
            return 1
    summary = {
        "databases": {
            name: sum(saved["rows"].values()) for name, saved in manifest["databases"].items()
        },
        "collections": len(manifest["collections"]),
        "uploads": manifest["uploads"],
    }
    print(json.dumps({args.command: str(args.archive), **summary}))
    return 0
