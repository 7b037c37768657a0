"""The composition root: ``create_app`` builds the auth service from its settings."""

from __future__ import annotations

import logging

from flask import Flask

from chatlens.auth import (
    admin,
    db,
    errors,
    http_accounts,
    http_api_keys,
    http_audit,
    http_internal,
    http_mfa,
    http_oauth,
    http_orgs,
    http_password_reset,
    http_secrets,
    http_sessions,
    internal,
    keys,
    metrics,
    migrate,
    oauth,
    password_resets,
)
from chatlens.auth.broadcasts import RevocationBroadcaster
from chatlens.auth.config import AuthSettings
from chatlens.auth.password_policy import PasswordPolicy
from chatlens.auth.passwords import Passwords
from chatlens.auth.provider_secrets import SecretBox
from chatlens.auth.refresh import RefreshTokens
from chatlens.auth.runtime import EXTENSION, Runtime
from chatlens.auth.throttle import Throttle
from chatlens.auth.tokens import AccessTokens
from chatlens.shared import service, tracing, web
from chatlens.shared.bus import Bus

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
    # The client's address (throttling, sessions, audit) comes from the proxy's header.
    service.trust_proxies(app, settings.trusted_proxies)

    web.init_correlation(app)
    tracing.init_app(app)  # after the correlation id: spans carry it
    web.init_deadline(app)  # a request the gateway gave up on is not worked on
    web.init_security_headers(app)
    errors.init_app(
        app,
        {
            oauth.OAuthFailed: (400, "oauth_failed"),
            oauth.InvalidState: (400, "invalid_state"),
            password_resets.ResetTokenInvalid: (400, "invalid_reset_token"),
        },
    )
    web.init_health(app, ready=lambda: db.ping(rt.engine))
    app.register_blueprint(http_accounts.blueprint)
    app.register_blueprint(http_orgs.blueprint)
    app.register_blueprint(http_internal.blueprint)
    app.register_blueprint(http_mfa.blueprint)
    app.register_blueprint(http_api_keys.blueprint)
    app.register_blueprint(http_audit.blueprint)
    app.register_blueprint(http_sessions.blueprint)
    app.register_blueprint(http_oauth.blueprint)
    app.register_blueprint(http_password_reset.blueprint)
    app.register_blueprint(http_secrets.blueprint)
    internal.init_app(app)
    app.cli.add_command(admin.group)
    return app


def build_runtime(settings: AuthSettings) -> Runtime:
    """Engine, signing key, hasher and token issuers, from the settings."""
    engine = db.make_engine(settings.database_url)
    sessions = db.session_factory(engine)
    broadcaster = None
    if settings.publish_revocations:
        # Auth only publishes (broadcasts): no queue of its own, no topology to declare.
        bus = Bus(settings.amqp_url, "auth", index_replicas=settings.index_replicas)
        broadcaster = RevocationBroadcaster(bus.publish).attach(sessions)
    keyring = keys.Keyring(settings.key_path, settings.access_ttl_s + settings.retired_key_keep_s)
    metrics.watch_signing_key(settings.key_path)
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        broadcaster=broadcaster,
        keyring=keyring,
        passwords=Passwords(
            settings.argon2_time_cost,
            settings.argon2_memory_kib,
            settings.argon2_parallelism,
            slots=settings.password_hash_slots,
            wait_s=settings.password_hash_wait_s,
        ),
        access_tokens=AccessTokens(
            keyring, settings.jwt_issuer, settings.jwt_audience, settings.access_ttl_s
        ),
        refresh_tokens=RefreshTokens(settings.refresh_ttl_s),
        password_policy=PasswordPolicy.packaged(),
        secret_box=SecretBox(settings.secrets_key_path),
        throttle=Throttle(
            settings.rate_limit_storage_uri,
            settings.login_limit_per_pair,
            settings.login_limit_per_address,
            settings.login_limit_per_account,
            settings.code_limit_per_user,
            settings.reset_limit_per_address,
            settings.reset_limit_per_account,
        ),
    )
