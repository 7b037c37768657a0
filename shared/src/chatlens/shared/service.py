"""One way to run a Flask service: gunicorn configured from code, its logs as our JSON lines, and
the proxy hops to trust. Auth and the gateway both serve through here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from werkzeug.middleware.proxy_fix import ProxyFix

# nginx refuses a request line or header field over 8 kB, or headers over 32 kB in all
# (large_client_header_buffers 4 8k), with its JSON 414/400; gunicorn's own limits sit at their
# maximum so that nginx answers first and a client never meets gunicorn's plain-text refusal.
LIMIT_REQUEST_LINE = 8190
LIMIT_REQUEST_FIELD_SIZE = 8190
LIMIT_REQUEST_FIELDS = 32768


class JsonLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """Gunicorn's messages go to the root logger, so they come out as JSON lines like ours."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in [h for h in logger.handlers if getattr(h, "_gunicorn", False)]:
                logger.removeHandler(handler)
            logger.propagate = True


class _Gunicorn(BaseApplication):  # type: ignore[misc]  # gunicorn ships no type hints
    def __init__(self, load: Callable[[], Flask], options: dict[str, Any]) -> None:
        self._load, self.options = load, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self._load()


# How long an idle kept-alive connection stays open (gunicorn's default is 2 s). Longer than the
# upstream keepalive_timeout of our nginx configurations (60 s): a proxy that reuses a connection
# the server is closing at that moment gets a reset, and a POST (a search) is not retried, so the
# client got 503 "the gateway is not answering" (1 in 1,367 requests at 40 users).
KEEPALIVE_S = 75


def serve(
    load: Callable[[], Flask],
    host: str,
    port: int,
    *,
    threads: int = 4,
    timeout_s: int = 120,
    graceful_timeout_s: int = 10,
) -> None:
    """Serve the app ``load`` builds until a signal stops gunicorn.

    One worker process with ``threads`` threads: a service's background parts (the gateway's
    outbox relay and consumer) live beside its request threads; scale out with more instances.
    ``load`` runs in the worker, after gunicorn has forked, so no connection crosses a fork.
    """
    _Gunicorn(
        load,
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": threads,
            "timeout": timeout_s,
            "graceful_timeout": graceful_timeout_s,
            "keepalive": KEEPALIVE_S,
            "logger_class": JsonLogger,
            "accesslog": None,  # nginx logs access; metrics count requests
            # Nothing manages us through gunicorn's control socket, and it would write under $HOME.
            "control_socket_disable": True,
            "limit_request_line": LIMIT_REQUEST_LINE,
            "limit_request_field_size": LIMIT_REQUEST_FIELD_SIZE,
            "limit_request_fields": LIMIT_REQUEST_FIELDS,
        },
    ).run()


def trust_proxies(app: Flask, hops: int) -> None:
    """Read the client's address, scheme and host from the last ``hops`` proxies' headers.

    Exactly the proxies in front of us: one more than there are lets a client spoof its
    address (and so its rate limits and audit entries); zero trusts no header at all.
    """
    if hops > 0:
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]
