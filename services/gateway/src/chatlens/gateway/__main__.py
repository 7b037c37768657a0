"""``python -m chatlens.gateway [migrate]``: serve the API with gunicorn, or run migrations."""

from __future__ import annotations

import sys

from chatlens.gateway.config import GatewaySettings
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.logs import configure_logging
from chatlens.shared.service import serve


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    init_sentry(settings.sentry_dsn, "gateway", environment=settings.sentry_environment,
                release=settings.sentry_release)
    if argv[:1] == ["migrate"]:
        from chatlens.gateway import migrate
        from chatlens.gateway.db import make_engine

        engine = make_engine(settings.resolved_database_url())
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        return

    def load():
        # Built in gunicorn's worker: the relay's and consumer's threads start after the fork.
        from chatlens.gateway.app import create_app

        return create_app(settings)

    serve(load, settings.host, settings.port, threads=settings.threads)


if __name__ == "__main__":
    main()
