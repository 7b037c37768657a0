"""``python -m chatlens.auth`` serves the API with gunicorn; ``... migrate`` only migrates;
``... cleanup`` removes finished sessions, OAuth states and spent or expired reset tokens
(:mod:`chatlens.auth.cleanup`)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import timedelta

from chatlens.auth.config import SERVICE, AuthSettings
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.logs import configure_logging
from chatlens.shared.tracing import init_tracing

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m chatlens.auth", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="serve the HTTP API (the default)")
    migrate_cmd = commands.add_parser("migrate", help="upgrade the database schema and exit")
    migrate_cmd.add_argument("revision", nargs="?", default="head")
    cleanup_cmd = commands.add_parser(
        "cleanup",
        help="remove finished sessions, OAuth states and spent or expired password-reset "
        "tokens, then exit (a CronJob)",
    )
    cleanup_cmd.add_argument(
        "--keep-days",
        type=float,
        default=7.0,
        help="keep ended sessions and spent or expired reset tokens this long (default 7 days)",
    )
    cleanup_cmd.add_argument("--batch", type=int, default=500, help="rows per transaction")
    commands.add_parser("admin", help="admin commands (see: admin --help)", add_help=False)
    argv = sys.argv[1:] if argv is None else argv
    # The admin commands are a click group of their own: everything after "admin" is theirs.
    admin_args = argv[1:] if argv[:1] == ["admin"] else None
    args = parser.parse_args(argv if admin_args is None else ["admin"])

    settings = AuthSettings()
    configure_logging(SERVICE, settings.log_level)
    init_sentry(
        settings.sentry_dsn,
        SERVICE,
        environment=settings.sentry_environment,
        release=settings.sentry_release,
    )
    init_tracing(SERVICE, settings.otel_exporter_otlp_endpoint)
    # Alembic announces each of its plugins at INFO on every start.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    if args.command == "migrate":
        from chatlens.auth import db, migrate

        engine = db.make_engine(settings.database_url)
        try:
            migrate.upgrade(engine, args.revision)
        finally:
            engine.dispose()
        return

    if args.command == "cleanup":
        _cleanup(settings, timedelta(days=args.keep_days), args.batch)
        return

    from chatlens.auth.app import create_app

    if args.command == "admin":
        from chatlens.auth import admin

        with create_app(settings).app_context():
            admin.group.main(admin_args, prog_name="python -m chatlens.auth admin")
        return

    from chatlens.shared.service import serve

    app = create_app(settings)
    log.info("auth listening", extra={"host": settings.host, "port": settings.port})
    serve(lambda: app, settings.host, settings.port, threads=4)


def _cleanup(settings: AuthSettings, keep: timedelta, batch: int) -> None:
    from chatlens.auth import cleanup, db

    engine = db.make_engine(settings.database_url)
    try:
        report = cleanup.clean(
            db.session_factory(engine),
            keep=keep,
            batch=batch,
            access_ttl=timedelta(seconds=settings.access_ttl_s),
        )
    except ValueError as exc:
        sys.exit(f"cleanup: {exc}")
    finally:
        engine.dispose()
    print(json.dumps(vars(report)))


if __name__ == "__main__":
    main()
