"""Error reports from the running service (``python -m chatlens.auth`` under gunicorn): a sign-in
while the database is down is reported to a local Sentry endpoint with the request's correlation
id, the service, release and environment, and without the password or the address typed in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

from chatlens.shared.envelope_server import envelope_server

PASSWORD = "correct horse battery staple 42"
EMAIL = "ada.lovelace@example.com"


def test_a_database_fault_is_reported_with_the_correlation_id_and_no_credentials(
    tmp_path, unused_port
):
    with envelope_server() as sentry:
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path),
            "PORT": str(unused_port),
            "HOST": "127.0.0.1",
            "AUTO_MIGRATE": "false",
            "SENTRY_DSN": sentry.dsn,
            "SENTRY_ENVIRONMENT": "test",
            "SENTRY_RELEASE": "chatlens@0.0.1-test",
            "DATABASE_URL": f"mysql+pymysql://root@127.0.0.1:{unused_port + 1}/nothing"
            "?connect_timeout=2",
            "ARGON2_TIME_COST": "1",
            "ARGON2_MEMORY_KIB": "8",
            "ARGON2_PARALLELISM": "1",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "chatlens.auth"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_until_up(f"http://127.0.0.1:{unused_port}/healthz", server)
            request = urllib.request.Request(
                f"http://127.0.0.1:{unused_port}/api/v1/auth/login",
                method="POST",
                data=json.dumps({"email": EMAIL, "password": PASSWORD}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Correlation-ID": "sentry-test-corr-1",
                },
            )
            try:
                urllib.request.urlopen(request, timeout=30)
                raise AssertionError("the sign-in should fail: the database is down")
            except urllib.error.HTTPError as exc:
                assert exc.code == 503
            events = sentry.wait_for_events(1, timeout=20)
        finally:
            server.terminate()
            output, _ = server.communicate(timeout=30)
    assert events, f"no event reached the endpoint; the service said: {output[-2000:]}"
    event = events[0]
    assert event["tags"]["correlation_id"] == "sentry-test-corr-1"
    assert event["tags"]["service"] == "auth"
    assert (event["release"], event["environment"]) == ("chatlens@0.0.1-test", "test")
    assert event["request"]["url"].endswith("/api/v1/auth/login")
    raw = sentry.raw()
    assert PASSWORD.encode() not in raw and EMAIL.encode() not in raw


def _wait_until_up(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and server.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")
