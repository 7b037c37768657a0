"""``/healthz``, ``/readyz`` and ``/metrics`` for services that have no HTTP API of their own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chatlens.shared import metrics

log = logging.getLogger(__name__)


def serve(port: int, ready: Callable[[], bool], host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """Serve the probes on a daemon thread; port 0 picks a free one (see ``server_address``)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            if self.path == "/healthz":
                self._send(200, b'{"status":"ok"}', "application/json")
            elif self.path == "/readyz":
                ok = _safe(ready)
                body = b'{"status":"ready"}' if ok else b'{"status":"starting"}'
                self._send(200 if ok else 503, body, "application/json")
            elif self.path == "/metrics":
                body, content_type = metrics.render()
                self._send(200, body, content_type)
            else:
                self._send(
                    404,
                    b'{"error":{"code":"not_found","message":"no such path"}}',
                    "application/json",
                )

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # probes are too chatty to log
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="health", daemon=True).start()
    log.info("health server listening", extra={"port": server.server_address[1]})
    return server


def _safe(check: Callable[[], bool]) -> bool:
    try:
        return bool(check())
    except Exception:  # a failing readiness check means "not ready", not a crash
        log.exception("readiness check failed")
        return False
