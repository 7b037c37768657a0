"""``python -m chatlens.gateway [migrate]``: serve the API with gunicorn, or run migrations."""

from __future__ import annotations

import sys

from gunicorn.app.base import BaseApplication

from chatlens.gateway.config import GatewaySettings
from chatlens.shared.logs import configure_logging, init_sentry


class _Server(BaseApplication):
    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        # One process: the outbox relay and the event consumer live beside the API threads.
        # Scale out with more gateway instances, each behind nginx.
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self.settings.threads)
        self.cfg.set("timeout", 120)
        self.cfg.set("graceful_timeout", 10)
        self.cfg.set("accesslog", None)

    def load(self):
        from chatlens.gateway.app import create_app

        return create_app(self.settings)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    init_sentry(settings.sentry_dsn, "gateway")
    if argv[:1] == ["migrate"]:
        from chatlens.gateway import migrate
        from chatlens.gateway.db import make_engine

        migrate.upgrade(make_engine(settings.resolved_database_url()))
        return
    _Server(settings).run()


if __name__ == "__main__":
    main()
