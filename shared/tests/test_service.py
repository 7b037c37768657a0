"""The one way to run a service: gunicorn from code, its own log lines as our JSON, request
lines up to nginx's limit accepted (nginx, not gunicorn, refuses longer ones, in JSON), and the
proxy hops to trust from settings."""

import json
import socket
import subprocess
import sys
import time

import requests
from flask import Flask, request

from chatlens.shared.service import trust_proxies

SERVER = """
import sys
from flask import Flask
from chatlens.shared.logs import configure_logging
from chatlens.shared.service import serve

configure_logging("probe")
app = Flask("probe")
app.get("/<path:anything>")(lambda anything: {"length": len(anything)})
serve(lambda: app, "127.0.0.1", int(sys.argv[1]), threads=2)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_serves_logs_json_and_takes_request_lines_up_to_nginx_s_limit():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)], stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = requests.get(
                    f"http://127.0.0.1:{port}/{'a' * 7000}",
                    timeout=5,
                    headers={f"X-Extra-{n}": "1" for n in range(150)},
                )
                break
            except requests.ConnectionError:
                assert process.poll() is None and time.monotonic() < deadline, "did not start"
                time.sleep(0.2)
        # gunicorn's default limits (a 4094-byte line, 100 fields) would refuse this in plain text.
        assert answer.status_code == 200 and answer.json() == {"length": 7000}
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]
    gunicorn = [line for line in lines if line["logger"].startswith("gunicorn")]
    assert any("Listening at" in line["message"] for line in gunicorn), lines
    assert all(line["service"] == "probe" for line in lines)


def _client_address(hops: int) -> str:
    app = Flask("probe")
    app.get("/")(lambda: {"address": request.remote_addr, "scheme": request.scheme})
    trust_proxies(app, hops)
    headers = {"X-Forwarded-For": "203.0.113.7, 198.51.100.2", "X-Forwarded-Proto": "https"}
    return app.test_client().get("/", headers=headers).json


def test_exactly_the_configured_proxy_hops_are_trusted():
    assert _client_address(1) == {"address": "198.51.100.2", "scheme": "https"}
    assert _client_address(2)["address"] == "203.0.113.7"
    assert _client_address(0) == {"address": "127.0.0.1", "scheme": "http"}
