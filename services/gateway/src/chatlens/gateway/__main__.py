"""``python -m chatlens.gateway [migrate | cleanup | rotate-webhook-key]``: serve the API with
gunicorn, run migrations, remove finished jobs and stale uploads (:mod:`chatlens.gateway.cleanup`),
or re-encrypt the webhook signing secrets under a new Fernet key
(:mod:`chatlens.shared.key_rotation`)."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import timedelta

from chatlens.gateway.config import GatewaySettings
from chatlens.shared.error_reports import init_sentry
from chatlens.shared.logs import configure_logging
from chatlens.shared.service import serve
from chatlens.shared.tracing import init_tracing


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    settings = GatewaySettings()
    configure_logging("gateway", settings.log_level)
    init_sentry(
        settings.sentry_dsn,
        "gateway",
        environment=settings.sentry_environment,
        release=settings.sentry_release,
    )
    init_tracing("gateway", settings.otel_exporter_otlp_endpoint)
    if argv[:1] == ["migrate"]:
        from chatlens.gateway import migrate
        from chatlens.gateway.db import make_engine

        engine = make_engine(settings.resolved_database_url())
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        return
    if argv[:1] == ["cleanup"]:
        _cleanup(settings, argv[1:])
        return
    if argv[:1] == ["rotate-webhook-key"]:
        sys.exit(_rotate_webhook_key(settings, argv[1:]))

    def load():
        # Built in gunicorn's worker: the relay's and consumer's threads start after the fork.
        from chatlens.gateway.app import create_app

        return create_app(settings)

    serve(load, settings.host, settings.port, threads=settings.threads)


def _cleanup(settings: GatewaySettings, argv: list[str]) -> None:
    from chatlens.gateway import cleanup
    from chatlens.gateway.db import make_engine, make_sessions, utcnow
    from chatlens.gateway.webhooks.retention import prune as prune_deliveries

    parser = argparse.ArgumentParser(prog="python -m chatlens.gateway cleanup")
    parser.add_argument(
        "--job-retention-days",
        type=float,
        default=90.0,
        help="keep finished jobs this long after their end (default 90)",
    )
    parser.add_argument(
        "--search-retention-days",
        type=float,
        default=90.0,
        help="keep recorded searches (search analytics) this long (default 90)",
    )
    parser.add_argument(
        "--upload-grace-hours",
        type=float,
        default=24.0,
        help="leave an upload folder or incoming file younger than this (24)",
    )
    parser.add_argument(
        "--webhook-retention-days",
        type=float,
        default=30.0,
        help="keep delivered and dead webhook deliveries this long (default 30)",
    )
    parser.add_argument("--batch", type=int, default=500, help="rows per transaction")
    args = parser.parse_args(argv)
    engine = make_engine(settings.resolved_database_url())
    try:
        report = cleanup.clean(
            make_sessions(engine),
            settings.resolved_upload_dir(),
            job_retention=timedelta(days=args.job_retention_days),
            upload_grace=timedelta(hours=args.upload_grace_hours),
            search_retention=timedelta(days=args.search_retention_days),
            batch=args.batch,
        )
        # Webhook deliveries (chatlens.gateway.webhooks.retention): pending ones are still owed.
        deliveries = prune_deliveries(
            make_sessions(engine),
            utcnow() - timedelta(days=args.webhook_retention_days),
            args.batch,
        )
    finally:
        engine.dispose()
    print(json.dumps({**vars(report), "webhook_deliveries": deliveries}))


def _rotate_webhook_key(settings: GatewaySettings, argv: list[str]) -> int:
    from chatlens.gateway.db import make_engine, make_sessions
    from chatlens.gateway.webhooks.tables import Webhook
    from chatlens.shared import key_rotation

    parser = argparse.ArgumentParser(
        prog="python -m chatlens.gateway rotate-webhook-key",
        description="Put a new Fernet key first in WEBHOOK_SECRETS_KEY_PATH and re-encrypt every "
        "webhook signing secret with it; the gateways keep running (they re-read the file).",
    )
    parser.add_argument(
        "--drop-old",
        action="store_true",
        help="remove the old keys once every secret is under the new one",
    )
    parser.add_argument(
        "--no-new-key",
        action="store_true",
        help="add no key: re-encrypt under the file's first key (a key file this process may "
        "not write, such as a Kubernetes Secret you have updated and remounted)",
    )
    args = parser.parse_args(argv)
    path = settings.resolved_webhook_key_path()
    engine = make_engine(settings.resolved_database_url())
    try:
        report = key_rotation.rotate(
            path,
            make_sessions(engine),
            [Webhook.secret],
            new_key=not args.no_new_key,
            drop_old=args.drop_old,
        )
    except (key_rotation.RotationError, OSError) as error:
        print(f"rotate-webhook-key: {error}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(json.dumps({"key_file": str(path), **vars(report)}))
    return 0


if __name__ == "__main__":
    main()
