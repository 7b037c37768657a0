"""The composition root: settings from the environment, and ``python -m`` that serves and stops."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from chatlens.embedding_worker.config import EmbeddingSettings
from chatlens.shared import schemas
from chatlens.shared.bus import Bus


def test_settings_default_the_upload_store_under_the_data_dir(monkeypatch):
    for name in ("UPLOAD_DIR", "DASK_SCHEDULER_ADDRESS", "BATCH_SIZE", "HEALTH_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATA_DIR", "/srv/chatlens")

    settings = EmbeddingSettings()

    assert settings.upload_dir == Path("/srv/chatlens/uploads")
    assert (settings.dask_scheduler_address, settings.batch_size, settings.health_port) == (
        None,
        512,
        8103,
    )


def test_settings_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("UPLOAD_DIR", "/mnt/uploads")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://scheduler:8786")

    settings = EmbeddingSettings()

    assert settings.upload_dir == Path("/mnt/uploads")
    assert settings.dask_scheduler_address == "tcp://scheduler:8786"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_the_worker_runs_answers_and_stops_on_sigterm(rabbit_url, tmp_path):
    port = _free_port()
    env = {
        **os.environ,
        "AMQP_URL": rabbit_url,
        "DATA_DIR": str(tmp_path),
        "HEALTH_PORT": str(port),
        "LOG_LEVEL": "INFO",
    }
    env.pop("DASK_SCHEDULER_ADDRESS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "chatlens.embedding_worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while _get(f"http://127.0.0.1:{port}/readyz") != 200:
            assert process.poll() is None, process.stdout.read()
            assert time.monotonic() < deadline, "the worker never became ready"
            time.sleep(0.5)
        assert _get(f"http://127.0.0.1:{port}/healthz") == 200

        bus = Bus(rabbit_url, "test-client")
        try:
            reply = bus.rpc().call(schemas.EmbedQuery(texts=["hello"]), timeout=60)
        finally:
            bus.rpc().close()
            bus.close()
        assert reply.vectors.rows == 1

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        output = process.stdout.read()
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"embedding worker running", "embedding worker stopped"} <= {
        r["message"] for r in records
    }
