"""Backups, end to end (issue 14): a stack with two uploads, a deletion and a tag is stopped and
backed up with ``chatlens backup``; the archive is restored with ``chatlens restore`` into an
empty data folder and empty databases (SQLite, and a throw-away PostgreSQL database), a stack
starts on each, and the same requests give the same answers: search results (ids, order and
scores; hybrid with a filter, keyword, on an older version by number and by tag), the analytics
overview, the versions and tags; the user signs in with the old password. A restore onto the
running, non-empty stack is refused."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import quote

import pytest

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig
from chatlens.shared.testing import require_server, throwaway_postgres, throwaway_vhost

from .conftest import BASE_PORT, ROOT
from .test_upload_to_search import SAMPLE, wait_job

pytestmark = pytest.mark.e2e

TELEGRAM = ROOT / "services/embedding-worker/tests/fixtures/telegram/result.json"
EMAIL, PASSWORD = "backup@example.com", "correct horse battery staple"
# The key files stay out of the archive (chatlens.cli.backup): an operator keeps them beside it
# and puts them in place before restoring elsewhere (deploy/README.md).
KEY_FILES = ("auth/jwt-private.pem", "auth/secrets.keys", "gateway/webhook-secrets.keys")


def _stack(state: Path, amqp_url: str, offset: int, database_url: str = "") -> Stack:
    return Stack(
        StackConfig(
            root=ROOT,
            state=state,
            amqp_url=amqp_url,
            base_port=BASE_PORT + offset,
            nginx=False,
            database_url=database_url,
            # Neither nginx nor the inference service (a model load) keeps anything a backup
            # holds: left out to keep three stack starts short.
            services=("auth", "index", "embedding-worker", "gateway"),
            extra_env={"READY_REQUIRES_SERVICES": "false"},
        )
    )


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m ARGS`` with ``env`` and no database URL of this process's environment."""
    inherited = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", *args],
        env={**inherited, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )


def _hits(answer: dict) -> list[tuple[str, float]]:
    return [(hit["message_id"], round(hit["score"], 5)) for hit in answer["results"]]


def observe(client: Client, collection_id: str) -> dict:
    """What the test compares before and after: searches, analytics, versions and tags."""
    base = f"/api/v1/collections/{collection_id}"

    def get(path: str) -> dict:
        return client._request("GET", base + path).json()

    searches = {
        "hybrid, whatsapp only": client.search(
            collection_id,
            "when is the team trip to Portugal?",
            k=8,
            mode="hybrid",
            filters={"platform": "whatsapp"},
        ),
        "keyword": client.search(collection_id, "staging server", k=8, mode="keyword"),
        "tagged version": client.search(
            collection_id, "who goes climbing at the gym?", k=8, mode="hybrid", version="both"
        ),
        "first version": client.search(collection_id, "invoice", k=8, mode="keyword", version=1),
    }
    return {
        "searches": {name: (_hits(answer), answer["version"]) for name, answer in searches.items()},
        "overview": get("/analytics/overview"),
        "overview of the tagged version": get("/analytics/overview?version=both"),
        "versions": get("/versions")["versions"],
        "tags": get("/tags")["tags"],
    }


def _fill(client: Client) -> str:
    """A collection with three versions: WhatsApp (1), Telegram (2, tagged), a chat deleted (3)."""
    collection_id = client.create_collection("backed up")["id"]
    for number, export in enumerate((SAMPLE, TELEGRAM), start=1):
        [job] = client.upload(collection_id, [export])
        done = wait_job(client, job["id"], timeout=300)
        assert done["status"] == "succeeded" and done["version"] == number, done
    base = f"/api/v1/collections/{collection_id}"
    client._request("POST", base + "/tags", json={"name": "both", "version": 2})
    deleted = client._request("DELETE", f"{base}/chats/{quote('Climbing Crew', safe='')}").json()
    assert deleted["version"] == 3 and deleted["removed"] > 0, deleted
    return collection_id


def _restore(archive: Path, keys_from: Path, stack: Stack) -> None:
    """What an operator does in a new place: put the key files back, migrate the empty
    databases, restore (deploy/README.md, "Backup and restore")."""
    for name in KEY_FILES:
        if (keys_from / name).exists():
            (stack.data / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(keys_from / name, stack.data / name)
    env = {"DATA_DIR": str(stack.data)}
    if stack.config.database_url:
        env["DATABASE_URL"] = stack.config.database_url
    for service in ("chatlens.auth", "chatlens.gateway"):
        migrated = _cli(service, "migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
    restored = _cli("chatlens.cli", "restore", str(archive), env=env)
    assert restored.returncode == 0, restored.stderr


def _each(work: Callable[[Stack], object], stacks: list[Stack]) -> None:
    """``work`` on every stack at once (most of a start or a stop is waiting)."""
    with ThreadPoolExecutor(len(stacks)) as pool:
        list(pool.map(work, stacks))


def _signed_in(stack: Stack) -> Client:
    client = Client(stack.config.gateway_url)
    client.login(EMAIL, PASSWORD)
    return client


def test_a_backup_restored_into_an_empty_stack_answers_as_the_original(tmp_path):
    require_server("127.0.0.1", 5672, "RabbitMQ")
    started = time.monotonic()
    archive = tmp_path / "chatlens-backup.tar.gz"
    with throwaway_vhost("e2e-backup") as amqp_url:
        original = _stack(tmp_path / "original", amqp_url, 600)
        try:
            original.up(wait_s=300)
            client = Client(original.config.gateway_url)
            client.register(EMAIL, PASSWORD)
            client.login(EMAIL, PASSWORD)
            collection_id = _fill(client)
            before = observe(client, collection_id)
        finally:
            original.down()
    # What the comparison stands on: each search found something, the filter and the versions
    # mattered.
    searches = before["searches"]
    assert all(hits for hits, _ in searches.values()), searches
    assert [v for _, v in searches.values()] == [3, 3, 2, 1]
    assert sorted(v["version"] for v in before["versions"]) == [0, 1, 2, 3]
    assert before["overview"] != before["overview of the tagged version"]

    backed_up = _cli("chatlens.cli", "backup", str(archive), "--data-dir", str(original.data))
    assert backed_up.returncode == 0, backed_up.stderr

    # Two empty places, made ready as an operator would and each started as a stack: SQLite files
    # in an empty data folder, and an empty PostgreSQL database beside one.
    with ExitStack() as context:
        database_url = context.enter_context(throwaway_postgres("restored"))
        targets = [
            _stack(tmp_path / "on-sqlite", context.enter_context(throwaway_vhost("e2e-sql")), 640),
            _stack(
                tmp_path / "on-postgres",
                context.enter_context(throwaway_vhost("e2e-pg")),
                680,
                database_url,
            ),
        ]
        _each(lambda target: _restore(archive, original.data, target), targets)
        context.callback(_each, Stack.down, targets)  # before the vhosts and the database go
        _each(lambda target: target.up(wait_s=300), targets)
        for target in targets:
            after = observe(_signed_in(target), collection_id)
            assert after == before, target.config.database_url or "SQLite"
        # Onto a running, non-empty stack, a restore is refused and changes nothing.
        on_sqlite = targets[0]
        again = _cli("chatlens.cli", "restore", str(archive), env={"DATA_DIR": str(on_sqlite.data)})
        assert again.returncode == 1 and "restore refused" in again.stderr, again.stderr
        assert observe(_signed_in(on_sqlite), collection_id)["searches"] == before["searches"]
    print(f"backup and restore, end to end: {time.monotonic() - started:.0f} s", file=sys.stderr)
