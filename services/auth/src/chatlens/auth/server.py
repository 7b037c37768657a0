"""Gunicorn, configured from code: one worker with four threads, logging through our JSON root."""

from __future__ import annotations

from flask import Flask
from gunicorn import glogging
from gunicorn.app.base import BaseApplication

WORKERS = 1
THREADS = 4


class _JsonLogger(glogging.Logger):
    """Gunicorn's messages go to the root logger, so they come out as JSON lines like ours."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in [h for h in logger.handlers if getattr(h, "_gunicorn", False)]:
                logger.removeHandler(handler)
            logger.propagate = True


class _Gunicorn(BaseApplication):
    def __init__(self, app: Flask, options: dict) -> None:
        self.application, self.options = app, options
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        return self.application


def serve(app: Flask, host: str, port: int) -> None:
    """Serve ``app`` until a signal stops gunicorn."""
    _Gunicorn(app, {
        "bind": f"{host}:{port}",
        "workers": WORKERS,
        "worker_class": "gthread",
        "threads": THREADS,
        "logger_class": _JsonLogger,
        "accesslog": None,  # nginx logs access; metrics count requests
        # Nothing manages us through gunicorn's control socket, and it would write under $HOME.
        "control_socket_disable": True,
    }).run()
