"""The composition root: ``create_app`` builds the auth service from its settings."""

from __future__ import annotations

import logging

from flask import Flask

from chatlens.auth import api, db, errors, keys, migrate
from chatlens.auth.config import AuthSettings
from chatlens.auth.passwords import Passwords
from chatlens.auth.refresh import RefreshTokens
from chatlens.auth.runtime import EXTENSION, Runtime
from chatlens.auth.tokens import AccessTokens
from chatlens.shared import web

log = logging.getLogger(__name__)


def create_app(settings: AuthSettings | None = None) -> Flask:
    """The auth Flask app; migrates the database first when ``auto_migrate`` is on."""
    settings = settings or AuthSettings()
    rt = build_runtime(settings)
    if settings.auto_migrate:
        migrate.upgrade(rt.engine)
        # Drop the migration's pooled connection: gunicorn forks after this, and a connection
        # must never be shared between processes.
        rt.engine.dispose()

    app = Flask(__name__)
    # Bounds what any read of the body may take, chunked bodies included. One byte over
    # json_body's limit because Werkzeug silently truncates a chunked body at exactly this
    # size: the extra byte is what lets json_body see it is too long and answer 413.
    app.config["MAX_CONTENT_LENGTH"] = web.MAX_JSON_BYTES + 1
    app.extensions[EXTENSION] = rt

    web.init_correlation(app)
    errors.init_app(app)
    web.init_health(app, ready=lambda: db.ping(rt.engine))
    app.register_blueprint(api.blueprint)
    return app


def build_runtime(settings: AuthSettings) -> Runtime:
    """Engine, signing key, hasher and token issuers, from the settings."""
    engine = db.make_engine(settings.database_url)
    signing_key = keys.load_or_create(settings.key_path)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=db.session_factory(engine),
        signing_key=signing_key,
        passwords=Passwords(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        access_tokens=AccessTokens(
            signing_key, settings.jwt_issuer, settings.jwt_audience, settings.access_ttl_s
        ),
        refresh_tokens=RefreshTokens(settings.refresh_ttl_s),
    )
