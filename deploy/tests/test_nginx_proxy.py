"""The dev nginx (deploy/nginx/chatlens.conf.template), running for real in front of a stand-in
gateway that reports what reached it: forwarded headers, correlation ids, streamed uploads,
unbuffered server-sent events, and the API's JSON errors for what nginx itself refuses."""

from __future__ import annotations

import gzip
import http.client
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from .nginx_server import free_port, get, nginx_serving, served_folder

UPLOAD = "/api/v1/collections/c1/uploads"
EVENTS = "/api/v1/jobs/j1/events"


class Gateway:
    """A stand-in gateway: echoes request headers as JSON, streams one event at a time, and tells
    the test when an upload's headers arrive, before its body is complete."""

    def __init__(self) -> None:
        self.upload_started = threading.Event()
        self.release_event = threading.Event()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # nginx keeps upstream connections alive

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                if self.path == EVENTS:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"data: first\n\n")
                    self.wfile.flush()
                    gateway.release_event.wait(10)
                    self.wfile.write(b"data: second\n\n")
                    self.close_connection = True
                else:
                    self._echo({})

            def do_POST(self) -> None:  # noqa: N802
                if self.path == UPLOAD:
                    gateway.upload_started.set()
                length = int(self.headers.get("Content-Length", 0))
                received = 0
                while received < length:
                    chunk = self.rfile.read(min(65536, length - received))
                    if not chunk:
                        break
                    received += len(chunk)
                self._echo({"received": received})

            def _echo(self, extra: dict) -> None:
                body = json.dumps({"path": self.path, "headers": dict(self.headers), **extra})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release_event.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


@contextmanager
def running_nginx(nginx: str, render, upstream: str, max_body: str = "1m") -> Iterator[tuple]:
    """nginx started exactly as the dev script starts it; yields ``(port, prefix)``."""
    prefix, port = served_folder("chatlens-nginx-"), free_port()
    (prefix / "nginx.conf").write_text(
        render(prefix, listen=f"127.0.0.1:{port}", gateway=upstream, max_body=max_body)
    )
    with nginx_serving(nginx, prefix, port, "/nginx-healthz"):
        yield port, prefix


@pytest.fixture(scope="module")
def proxy(nginx, render, gateway) -> Iterator[int]:
    with running_nginx(nginx, render, f"127.0.0.1:{gateway.port}") as (port, _):
        yield port


def echoed(port: int, path: str, headers: dict | None = None) -> dict:
    status, _, body = get(port, path, headers)
    assert status == 200, body
    return json.loads(body)


def test_api_paths_reach_the_gateway_with_one_hop_of_forwarded_headers(proxy):
    seen = echoed(proxy, "/api/v1/collections?x=1", {"X-Forwarded-For": "203.0.113.9"})
    headers = seen["headers"]
    assert seen["path"] == "/api/v1/collections?x=1"
    # nginx appends the peer it saw; ProxyFix(x_for=1) trusts exactly that last entry.
    assert headers["X-Forwarded-For"] == "203.0.113.9, 127.0.0.1"
    assert headers["X-Real-IP"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert headers["X-Forwarded-Host"] == f"127.0.0.1:{proxy}"
    for path in ("/v1/models", "/healthz", "/readyz"):
        assert echoed(proxy, path)["path"] == path


def test_correlation_id_is_passed_through_or_made(proxy):
    given = echoed(proxy, "/api/v1/me", {"X-Correlation-ID": "abc-123"})
    assert given["headers"]["X-Correlation-ID"] == "abc-123"
    made = echoed(proxy, "/api/v1/me")["headers"]["X-Correlation-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)  # nginx's $request_id
    assert made != echoed(proxy, "/api/v1/me")["headers"]["X-Correlation-ID"]


def test_other_paths_and_metrics_are_not_proxied(proxy):
    for path in ("/metrics", "/", "/admin"):
        status, headers, body = get(proxy, path)
        assert status == 404 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "not_found"


def test_uploads_stream_to_the_gateway_before_the_body_is_complete(proxy, gateway):
    size = 300_000
    with socket.create_connection(("127.0.0.1", proxy), timeout=10) as sock:
        sock.sendall(
            f"POST {UPLOAD} HTTP/1.1\r\nHost: chatlens\r\nContent-Length: {size}\r\n"
            "Content-Type: application/octet-stream\r\n\r\n".encode()
            + b"x" * 1000
        )
        # With request buffering on, nginx would wait for the whole body before connecting.
        assert gateway.upload_started.wait(5), "nginx buffered the upload instead of streaming it"
        sock.sendall(b"x" * (size - 1000))
        response = read_http_response(sock)
    assert response.startswith(b"HTTP/1.1 200")
    assert json.loads(response.split(b"\r\n\r\n", 1)[1])["received"] == size


def test_bodies_over_max_body_get_the_api_error_shape(proxy):
    conn = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
    try:
        conn.request("POST", UPLOAD, body=b"x" * (1024 * 1024 + 1))
        response = conn.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"]["code"] == "body_too_large"
    finally:
        conn.close()


def test_job_events_arrive_one_by_one_unbuffered(proxy, gateway):
    with socket.create_connection(("127.0.0.1", proxy), timeout=5) as sock:
        sock.sendall(f"GET {EVENTS} HTTP/1.1\r\nHost: chatlens\r\n\r\n".encode())
        received = b""
        while b"data: first" not in received:  # the gateway holds "second" back until told
            chunk = sock.recv(4096)  # times out (fails) if nginx sits on the first event
            assert chunk, received
            received += chunk
        assert b"data: second" not in received
        gateway.release_event.set()
        while b"data: second" not in received:
            chunk = sock.recv(4096)
            assert chunk, received
            received += chunk
    assert b"text/event-stream" in received


def test_a_gateway_that_is_down_is_a_json_503_and_logged_as_json(nginx, render):
    with running_nginx(nginx, render, f"127.0.0.1:{free_port()}") as (port, prefix):
        status, headers, body = get(port, "/api/v1/me")
        assert status == 503 and headers["Content-Type"] == "application/json"
        assert json.loads(body)["error"]["code"] == "unavailable"
        entry = json.loads(last_log_line(prefix / "access.log"))
    assert entry["path"] == "/api/v1/me" and entry["status"] == 503
    assert re.fullmatch(r"[0-9a-f]{32}", entry["correlation_id"])


def last_log_line(path: Path) -> str:
    """nginx logs a request after answering it, so the line may land a moment later."""
    deadline = time.monotonic() + 5
    while not (lines := path.read_text().splitlines()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lines, f"nothing was logged to {path}"
    return lines[-1]


def read_http_response(sock: socket.socket) -> bytes:
    """One HTTP/1.1 response with a Content-Length, read off a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_the_web_app_and_the_api_go_gzipped_but_never_auth(nginx, render, gateway):
    """A first visit's JavaScript and CSS are compressed (Lighthouse's mobile score of the search
    page went from 45 to 63 with it), and the API's JSON (bearer-token routes: no other site can
    make a browser send one); auth's answers never are: its routes are the ones a browser sends
    cookies to, and they put tokens beside what a request sent (BREACH)."""
    with running_nginx(nginx, render, f"127.0.0.1:{gateway.port}") as (port, prefix):
        assets = prefix / "web" / "assets"
        assets.mkdir(parents=True)
        script = "export const greeting = 'hello from the web app';\n" * 100
        (assets / "index-1234.js").write_text(script)
        status, headers, body = get(port, "/assets/index-1234.js", {"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers.get("Content-Encoding") == "gzip"
        assert "Accept-Encoding" in headers.get("Vary", "")
        assert gzip.decompress(body).decode() == script
        _, plain_headers, plain = get(port, "/assets/index-1234.js")
        assert "Content-Encoding" not in plain_headers and plain.decode() == script
        # Answers well over gzip_min_length (the fake gateway echoes the request's headers).
        padding = {"Accept-Encoding": "gzip", "X-Padding": "x" * 2000}
        for path in ("/api/v1/collections", "/v1/models"):
            _, api_headers, api_body = get(port, path, padding)
            assert api_headers.get("Content-Encoding") == "gzip", path
            assert "Accept-Encoding" in api_headers.get("Vary", "")
            assert json.loads(gzip.decompress(api_body))["path"] == path
        for path in ("/api/v1/auth/refresh", "/api/v1/auth/oauth/github/start"):
            _, auth_headers, auth_body = get(port, path, padding)
            assert len(auth_body) > 2000 and "Content-Encoding" not in auth_headers, path
            assert json.loads(auth_body)["path"] == path


def test_both_configs_gzip_the_web_app_and_the_api_but_not_auth(files, render, tmp_path: Path):
    """prod.conf (and the chart's copy made from it) compresses as the dev nginx above does: the
    web app's files, /api/ and /v1/, and never /api/v1/auth/."""
    for text in (render(tmp_path), files.nginx_prod.read_text()):
        found = re.findall(r"\n        location ([^{]+?) \{(.*?)\n        \}", text, re.DOTALL)
        blocks = dict(found)
        web = blocks["/"]
        assert "gzip on;" in web and "text/javascript" in web and "text/css" in web
        for api in ("/api/", "/v1/"):
            assert "gzip on;" in blocks[api] and "gzip_types application/json;" in blocks[api]
        assert "gzip" not in blocks["/api/v1/auth/"]
        gzipped = {name for name, body in blocks.items() if "gzip" in body}
        assert gzipped == {"/", "/api/", "/v1/"}
        assert not re.search(r"^\s{0,8}gzip", text, re.MULTILINE)  # none at the server level


def test_nginx_lets_go_of_an_idle_gateway_connection_before_the_gateway_does(
    files, render, tmp_path: Path
):
    """nginx keeps connections to the gateway open between requests; if the gateway closes one
    just as nginx reuses it, the request is reset, and a POST (a search) is not retried: the
    client gets 503 "the gateway is not answering" (seen once in 1,367 requests at 40 users,
    with gunicorn's 2-second default). So every config's upstream lets go first."""
    from chatlens.shared.service import KEEPALIVE_S

    chart = files.root / "deploy" / "helm" / "chatlens" / "files" / "nginx.conf"
    for text in (render(tmp_path), files.nginx_prod.read_text(), chart.read_text()):
        [upstream] = re.findall(r"upstream chatlens_gateway \{(.*?)\n    \}", text, re.DOTALL)
        assert re.search(r"\bkeepalive \d+;", upstream)
        [idle] = re.findall(r"keepalive_timeout (\d+)s;", upstream)
        assert int(idle) + 10 <= KEEPALIVE_S
