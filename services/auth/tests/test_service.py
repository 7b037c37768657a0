"""The service as it runs: readiness, a database that is down, and ``python -m chatlens.auth``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from sqlalchemy import inspect

from chatlens.auth import db
from chatlens.auth.app import create_app
from chatlens.auth.config import AuthSettings

CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}


def test_settings_default_to_a_sqlite_file_and_a_key_under_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("JWT_PRIVATE_KEY_PATH", raising=False)
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = AuthSettings()
    assert settings.database_url == f"sqlite:///{tmp_path}/auth/auth.db"
    assert settings.key_path == tmp_path / "auth" / "jwt-private.pem"
    assert (settings.port, settings.host, settings.access_ttl_s) == (8101, "127.0.0.1", 900)
    assert settings.refresh_ttl_s == 30 * 24 * 3600


def test_a_database_that_does_not_answer_means_not_ready_and_503(tmp_path, unused_port):
    settings = AuthSettings(
        data_dir=tmp_path,
        auto_migrate=False,
        **CHEAP_ARGON2,
        database_url=f"mysql+pymysql://root@127.0.0.1:{unused_port}/nothing?connect_timeout=2",
    )
    client = create_app(settings).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    response = client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": "whatever it is"}
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "database_unavailable"
    assert "127.0.0.1" not in response.json["error"]["message"]


def test_python_m_chatlens_auth_migrates_and_serves(database_url, tmp_path, unused_port):
    env = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "PORT": str(unused_port),
        "HOST": "127.0.0.1",
        "AUTO_MIGRATE": "false",
        **{k.upper(): str(v) for k, v in CHEAP_ARGON2.items()},
    }
    migrated = subprocess.run(
        [sys.executable, "-m", "chatlens.auth", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert migrated.returncode == 0, migrated.stderr
    engine = db.make_engine(database_url)
    try:
        assert "users" in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    server = subprocess.Popen(
        [sys.executable, "-m", "chatlens.auth"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = _wait_for(f"http://127.0.0.1:{unused_port}/readyz", server)
        assert body == b'{"status":"ready"}\n'
        assert (tmp_path / "auth" / "jwt-private.pem").exists()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert '"logger": "gunicorn.error"' in output  # gunicorn logs as JSON lines too


def _wait_for(url: str, server: subprocess.Popen, timeout_s: float = 30) -> bytes:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"the server exited: {server.stdout.read()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {timeout_s}s")
