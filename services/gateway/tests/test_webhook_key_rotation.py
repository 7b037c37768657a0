"""``python -m chatlens.gateway rotate-webhook-key``: every webhook signing secret re-encrypted
under a new Fernet key (chatlens.shared.key_rotation) while the gateway runs, the old keys
dropped only once all are; a secret replaced or written with the old key meanwhile is not lost.
On SQLite, MariaDB and PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from chatlens.gateway.webhooks.tables import Webhook
from chatlens.shared import key_rotation
from chatlens.shared.secret_box import load_keys

from .test_api import create_collection
from .test_webhooks import FAST, hooks_url, make_hook

URL = "http://127.0.0.1:9/hook"  # never called: these tests only store secrets


@pytest.fixture
def settings(settings):
    return settings.model_copy(update=FAST)


def run_command(settings, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": settings.database_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "chatlens.gateway", "rotate-webhook-key", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stored(app) -> dict[str, str]:
    with app.extensions["chatlens.sessions"]() as session:
        return dict(session.execute(select(Webhook.id, Webhook.secret)).all())


def test_the_command_puts_every_secret_under_a_new_key_and_drops_the_old_ones(
    app, client, auth, settings
):
    headers = auth()
    collection = create_collection(client, headers)
    secrets = {
        hook["id"]: hook["secret"]
        for hook in (make_hook(client, headers, collection, URL) for _ in range(3))
    }
    path = app.extensions["chatlens.webhooks"].box.path
    old_keys = load_keys(path)
    before = stored(app)

    done = run_command(settings, "--drop-old")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["reencrypted"] == 3 and report["values"] == 3 and report["unreadable"] == []
    assert report["dropped_old"] is True and report["key_file"] == str(path)
    (new_key,) = load_keys(path)
    assert new_key not in old_keys
    after = stored(app)
    for hook_id, secret in secrets.items():
        assert after[hook_id] != before[hook_id]
        assert Fernet(new_key).decrypt(after[hook_id].encode()).decode() == secret
        # The running gateway re-reads the key file: it still signs with the same secret.
        assert app.extensions["chatlens.webhooks"].box.decrypt(after[hook_id]) == secret
    # A webhook made after the rotation is encrypted with the new key.
    made = make_hook(client, headers, collection, URL)
    assert Fernet(new_key).decrypt(stored(app)[made["id"]].encode()).decode() == made["secret"]


def test_a_secret_changed_during_the_rotation_is_kept_and_one_written_with_the_old_key_is_caught(
    app, client, auth, monkeypatch
):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, URL)
    box = app.extensions["chatlens.webhooks"].box
    old_key = load_keys(box.path)[0]
    late: dict[str, str] = {}
    real_is_under = key_rotation._is_under

    def meanwhile(first, value):
        # Between the rotation's read and its write: an admin rotates the hook's secret through
        # the API, and a replica that read the key file before the new key writes a new webhook
        # with the old key.
        if not late:
            path = hooks_url(collection, hook["id"], "rotate-secret")
            late["api_secret"] = client.post(path, headers=headers).json["secret"]
            with app.extensions["chatlens.sessions"]() as session:
                session.add(
                    Webhook(
                        org_id="org-a",
                        collection_id=collection,
                        url=URL,
                        events=["job.failed"],
                        secret=Fernet(old_key).encrypt(b"whsec_old").decode(),
                        created_by="user-a",
                    )
                )
                session.commit()
        return real_is_under(first, value)

    monkeypatch.setattr(key_rotation, "_is_under", meanwhile)
    report = key_rotation.rotate(
        box.path, app.extensions["chatlens.sessions"], [Webhook.secret], drop_old=True
    )
    assert report.dropped_old and report.unreadable == []
    (new_key,) = load_keys(box.path)
    clear = {
        hook_id: Fernet(new_key).decrypt(value.encode()).decode()
        for hook_id, value in stored(app).items()
    }
    # The API's new secret, not the old one re-encrypted over it.
    assert clear.pop(hook["id"]) == late["api_secret"] != hook["secret"]
    assert list(clear.values()) == ["whsec_old"]


def test_with_no_new_key_the_operators_first_key_is_the_new_one(app, client, auth, settings):
    """Kubernetes: the key file is a read-only Secret; the operator put a new key first."""
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, URL)
    path = app.extensions["chatlens.webhooks"].box.path
    operators = Fernet.generate_key()
    path.write_bytes(operators + b"\n" + path.read_bytes())
    done = run_command(settings, "--no-new-key", "--drop-old")
    assert done.returncode == 0, done.stderr
    assert load_keys(path) == [operators]
    secret = stored(app)[hook["id"]]
    assert Fernet(operators).decrypt(secret.encode()).decode() == hook["secret"]


def test_a_secret_no_key_decrypts_keeps_the_old_keys(app, client, auth, settings):
    headers = auth()
    collection = create_collection(client, headers)
    hook = make_hook(client, headers, collection, URL)
    broken = make_hook(client, headers, collection, URL)
    with app.extensions["chatlens.sessions"]() as session:
        unknown_key = Fernet(Fernet.generate_key())
        session.get(Webhook, broken["id"]).secret = unknown_key.encrypt(b"x").decode()
        session.commit()
    path = app.extensions["chatlens.webhooks"].box.path
    old_keys = load_keys(path)

    refused = run_command(settings, "--drop-old")
    assert refused.returncode == 1
    assert f"webhooks:{broken['id']}" in refused.stderr and "old keys stay" in refused.stderr
    keys = load_keys(path)
    assert keys[1:] == old_keys  # a new first key, the old ones kept
    # The readable one is under the new key all the same, and the gateway still reads both.
    assert Fernet(keys[0]).decrypt(stored(app)[hook["id"]].encode()).decode() == hook["secret"]

    kept = run_command(settings)  # without --drop-old: a report
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["unreadable"] == [f"webhooks:{broken['id']}"]
