"""A real HTTP receiver for webhook tests: a threaded ``http.server`` on loopback that answers
each POST with the next status of its plan (then 200), and records what it got."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    url: str = ""
    plan: list[int] = field(default_factory=list)  # statuses for the next requests
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None  # set: the next request waits for it before answering
    holding: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answered(self, status: int = 200) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.answered == status]


@contextmanager
def serve() -> Iterator[Receiver]:
    receiver = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            hold = receiver.hold
            if hold is not None:
                receiver.hold = None
                receiver.holding.set()
                hold.wait(30)
            with receiver.lock:
                status = receiver.plan.pop(0) if receiver.plan else 200
                receiver.received.append(Received(dict(self.headers.items()), body, status))
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.url + "/redirected")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/in"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
