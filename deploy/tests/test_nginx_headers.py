"""nginx adds the security headers to every answer, its own error pages included, and the ones
the gateway sends itself appear once, not twice (issue 15.6)."""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .test_nginx_proxy import free_port, running_nginx

SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
JSON_CSP = "default-src 'none'; frame-ancestors 'none'"


@pytest.fixture(scope="module")
def secure_gateway():
    """An upstream that sends the same headers as chatlens.shared.web does."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in [
                ("X-Content-Type-Options", "nosniff"),
                ("X-Frame-Options", "DENY"),
                ("Referrer-Policy", "no-referrer"),
                ("Content-Security-Policy", JSON_CSP),
            ]:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def headers_of(port: int, path: str) -> tuple[int, list[tuple[str, str]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status, [(k.lower(), v) for k, v in response.getheaders()]
    finally:
        conn.close()


def test_a_proxied_answer_has_each_security_header_once(nginx, render, secure_gateway):
    with running_nginx(nginx, render, secure_gateway) as (port, _):
        status, headers = headers_of(port, "/api/v1/me")

    assert status == 200
    for name, value in SECURITY.items():
        assert [v for k, v in headers if k == name] == [value]
    assert [v for k, v in headers if k == "content-security-policy"] == [JSON_CSP]


def test_nginx_own_error_pages_carry_them_too(nginx, render):
    with running_nginx(nginx, render, f"127.0.0.1:{free_port()}") as (port, _):
        status, headers = headers_of(port, "/api/v1/me")  # the gateway is down

    assert status == 503
    assert {k: v for k, v in headers if k in SECURITY} == SECURITY
