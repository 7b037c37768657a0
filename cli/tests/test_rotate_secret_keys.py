"""``chatlens rotate-secret-keys``: the local stack's stored secrets (an org's provider key in
auth, a webhook's signing secret in the gateway) end up under new Fernet keys, each service's
key file in the stack's data folder, by each service's own command run as the stack runs it."""

from __future__ import annotations

import os
import subprocess
import sys

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, insert, select

from chatlens.auth.tables import Org, ProviderSecret
from chatlens.cli.__main__ import main
from chatlens.gateway.db import Collection
from chatlens.gateway.webhooks.tables import Webhook


def test_both_services_secrets_are_re_encrypted_and_the_old_keys_dropped(
    tmp_path, monkeypatch, capsys
):
    state = tmp_path / "stack"
    data = state / "data"
    env = {**os.environ, "DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    for service in ("chatlens.auth", "chatlens.gateway"):
        done = subprocess.run(
            [sys.executable, "-m", service, "migrate"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr
    old = Fernet.generate_key()
    auth_keys, gateway_keys = data / "auth/secrets.keys", data / "gateway/webhook-secrets.keys"
    for path in (auth_keys, gateway_keys):
        path.write_bytes(old + b"\n")
    auth_db = create_engine(f"sqlite:///{data / 'auth/auth.db'}")
    gateway_db = create_engine(f"sqlite:///{data / 'gateway/gateway.db'}")
    with auth_db.begin() as connection:
        connection.execute(insert(Org).values(id="org-1", name="Team"))
        connection.execute(
            insert(ProviderSecret).values(
                id="ps-1",
                org_id="org-1",
                name="openai",
                provider="openai",
                ciphertext=Fernet(old).encrypt(b"sk-provider").decode(),
                hint="",
            )
        )
    with gateway_db.begin() as connection:
        connection.execute(
            insert(Collection).values(id="c1", org_id="org-1", name="Team", created_by="u")
        )
        connection.execute(
            insert(Webhook).values(
                id="w1",
                org_id="org-1",
                collection_id="c1",
                url="https://hooks.example.com/in",
                events=["job.failed"],
                secret=Fernet(old).encrypt(b"whsec_hook").decode(),
                created_by="u",
            )
        )
    monkeypatch.setenv("CHATLENS_STATE", str(state))
    monkeypatch.delenv("DATABASE_URL", raising=False)

    assert main(["--root", str(tmp_path), "rotate-secret-keys", "--drop-old"]) == 0

    printed = capsys.readouterr().out
    assert "auth: re-encrypted 1 secrets" in printed and '"reencrypted": 1' in printed
    (auth_key,) = auth_keys.read_bytes().split()
    (gateway_key,) = gateway_keys.read_bytes().split()
    assert old not in (auth_key, gateway_key)
    with auth_db.connect() as connection:
        ciphertext = connection.scalar(select(ProviderSecret.ciphertext))
    with gateway_db.connect() as connection:
        secret = connection.scalar(select(Webhook.secret))
    assert Fernet(auth_key).decrypt(ciphertext.encode()) == b"sk-provider"
    assert Fernet(gateway_key).decrypt(secret.encode()) == b"whsec_hook"
    auth_db.dispose()
    gateway_db.dispose()
