"""The CLI's API client and stack runner, against a loopback HTTP server (no stack needed)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from chatlens.cli.__main__ import main
from chatlens.cli.client import ApiError, Client
from chatlens.cli.stack import Stack, StackConfig

EVENTS = (
    ": keepalive\n\n"
    'event: progress\ndata: {"status": "running", "progress": {"done": 1}}\n\n'
    'event: done\ndata: {"status": "succeeded",\ndata:  "version": 3}\n\n'
)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        if self.path.endswith("/events"):
            body, content_type, status = EVENTS.encode(), "text/event-stream", 200
        else:
            error = {"error": {"code": "job_not_found", "message": "no such job"}}
            body = json.dumps(error).encode()
            content_type, status = "application/json", 404
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_job_events_are_read_as_server_sent_events(server):
    events = list(Client(server, token="t").job_events("j1"))
    assert events == [
        ("progress", {"status": "running", "progress": {"done": 1}}),
        ("done", {"status": "succeeded", "version": 3}),
    ]


def test_api_errors_carry_the_status_and_code(server):
    with pytest.raises(ApiError) as error:
        Client(server).job("missing")
    assert error.value.status == 404 and error.value.code == "job_not_found"


def test_every_service_gets_its_port_the_broker_and_the_shared_upload_store(tmp_path):
    stack = Stack(
        StackConfig(
            root=tmp_path,
            state=tmp_path / "state",
            base_port=9000,
            amqp_url="amqp://guest:guest@127.0.0.1:5672/x",
        )
    )
    assert stack.env("gateway")["PORT"] == "9000"
    assert stack.env("auth")["PORT"] == "9001"
    assert stack.env("index")["HEALTH_PORT"] == "9002"
    assert stack.env("gateway")["AUTH_URL"] == "http://127.0.0.1:9001"
    assert {stack.env(n)["UPLOAD_DIR"] for n in ("gateway", "embedding-worker")} == {
        str(tmp_path / "state" / "data" / "uploads")
    }
    assert stack.command("embedding-worker")[-1] == "chatlens.embedding_worker"


def test_status_of_a_stack_that_never_ran(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHATLENS_STATE", str(tmp_path / "state"))
    assert main(["--root", str(Path.cwd()), "status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 6 and all(line.endswith("stopped") for line in lines)


def test_logs_of_an_index_replica_and_of_an_unknown_service(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CHATLENS_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("INDEX_REPLICAS", "2")
    (tmp_path / "state" / "logs").mkdir(parents=True)
    (tmp_path / "state" / "logs" / "index-1.log").write_text("replica one started\n")
    assert main(["--root", str(Path.cwd()), "logs", "index-1"]) == 0
    assert "replica one started" in capsys.readouterr().out
    assert main(["--root", str(Path.cwd()), "logs"]) == 0
    assert "==> index-1 <==" in capsys.readouterr().out
    assert main(["--root", str(Path.cwd()), "logs", "index-2"]) == 2
    assert "no service 'index-2'" in capsys.readouterr().err
