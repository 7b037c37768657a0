"""A local stand-in for Sentry's ingestion endpoint, for tests: it takes the envelopes an SDK
posts (``/api/<project>/envelope/``, brotli, gzip or plain) and keeps them, raw and parsed, so a
test can check what a service would have sent, and that it sent nothing it should not."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Envelope:
    raw: bytes
    headers: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]]

    def events(self) -> list[dict[str, Any]]:
        """The error events in the envelope (not sessions, client reports, ...)."""
        return [
            json.loads(payload) for header, payload in self.items if header.get("type") == "event"
        ]


@dataclass
class EnvelopeServer:
    dsn: str
    envelopes: list[Envelope] = field(default_factory=list)

    def events(self) -> list[dict[str, Any]]:
        return [event for envelope in self.envelopes for event in envelope.events()]

    def wait_for_events(self, count: int = 1, timeout: float = 10.0) -> list[dict[str, Any]]:
        """The events received, once there are ``count`` of them (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.events()

    def raw(self) -> bytes:
        """Every byte received, decompressed: to check a secret appears nowhere."""
        return b"\n".join(envelope.raw for envelope in self.envelopes)


def parse_envelope(body: bytes) -> Envelope:
    """Sentry's envelope format: a header line, then per item a header line and its payload
    (``length`` bytes when the header says, else up to the next newline)."""
    header_line, _, rest = body.partition(b"\n")
    items = []
    while rest.strip():
        item_line, _, rest = rest.partition(b"\n")
        item = json.loads(item_line)
        if "length" in item:
            payload, rest = rest[: item["length"]], rest[item["length"] + 1 :]
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((item, payload))
    return Envelope(body, json.loads(header_line), items)


@contextmanager
def envelope_server(project: str = "1", key: str = "public") -> Iterator[EnvelopeServer]:
    """Run the endpoint on a free loopback port; yields it with the DSN that points at it."""
    received: list[Envelope] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            encoding = self.headers.get("Content-Encoding")
            if encoding == "gzip":
                body = gzip.decompress(body)
            elif encoding == "br":  # the SDK's choice whenever brotli is installed
                import brotli

                body = brotli.decompress(body)
            received.append(parse_envelope(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    try:
        yield EnvelopeServer(f"http://{key}@127.0.0.1:{port}/{project}", received)
    finally:
        server.shutdown()
        server.server_close()
