"""The gateway's composition root: ``create_app`` builds every adapter and wires the API."""

from __future__ import annotations

import logging

import requests
from flask import Flask, request
from requests.adapters import HTTPAdapter

from chatlens.gateway import http_errors, migrate, ratelimits, readiness
from chatlens.gateway.api import (
    analytics,
    ask,
    auth_proxy,
    collections,
    contract,
    deletions,
    docs,
    jobs,
    messages,
    model_admin,
    openai_compat,
    org_models,
    quotas,
    search,
    search_analytics,
    summaries,
    tags,
    topics,
    versions,
    webhooks,
)
from chatlens.gateway.api_keys import ApiKeyVerifier
from chatlens.gateway.application import webhooks as application_webhooks
from chatlens.gateway.audit import AuditLog
from chatlens.gateway.config import GatewaySettings
from chatlens.gateway.db import make_engine, make_sessions
from chatlens.gateway.events import job_event_handler
from chatlens.gateway.outbox import OutboxRelay
from chatlens.gateway.revocation_push import broadcast_routes
from chatlens.gateway.revocations import RevocationFeed
from chatlens.gateway.security import Principal, TokenVerifier
from chatlens.gateway.uploads import UploadRequest
from chatlens.gateway.webhooks.dispatcher import Dispatcher, DispatchSettings
from chatlens.shared import deadletters, service, topology, tracing, web
from chatlens.shared.bus import Bus
from chatlens.shared.secret_box import SecretBox

log = logging.getLogger(__name__)

# Form fields an upload may carry besides its files (format, timezone, ...), with room to spare.
FORM_FIELDS = 20


def create_app(settings: GatewaySettings | None = None, *, bus: Bus | None = None) -> Flask:
    settings = settings or GatewaySettings()
    app = Flask(__name__)
    app.request_class = UploadRequest
    # nginx is the one proxy in front of us: trust exactly its hop of X-Forwarded-*.
    service.trust_proxies(app, settings.trusted_proxies)
    app.config.update(
        CHATLENS_SETTINGS=settings,
        CHATLENS_UPLOAD_DIR=settings.resolved_upload_dir(),
        # Server-Timing only when asked for (platform admins get it anyway): see web.py.
        SERVER_TIMING=settings.server_timing,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
        # Also bounds the multipart parser's buffer, so it must stay well above its read size.
        MAX_FORM_MEMORY_SIZE=1024 * 1024,
        # The files of one upload and a few fields; a form of thousands of parts is refused early.
        MAX_FORM_PARTS=settings.max_files_per_upload + FORM_FIELDS,
    )

    engine = make_engine(settings.resolved_database_url())
    if settings.auto_migrate:
        migrate.upgrade(engine)
    sessions = make_sessions(engine)
    bus = bus or Bus(settings.amqp_url, "gateway", index_replicas=settings.index_replicas)
    bus.declare()
    relay = OutboxRelay(sessions, bus, settings.outbox_poll_s)
    http = requests.Session()
    # One kept connection to auth per request thread: with urllib3's default 10 for 32 threads,
    # a busy gateway opened and dropped connections ("Connection pool is full" at 40 users).
    http.mount("http://", HTTPAdapter(pool_maxsize=settings.threads))
    http.mount("https://", HTTPAdapter(pool_maxsize=settings.threads))
    verifier = TokenVerifier(
        settings.resolved_jwks_url(), settings.jwt_issuer, settings.jwt_audience
    )
    verifier.revocations = RevocationFeed(
        settings.internal_url("revocations"),
        http,
        verifier.decode_revocations,
        internal_token=settings.internal_token,
        refresh_s=settings.revocations_refresh_s,
    )
    api_keys = ApiKeyVerifier(
        settings.internal_url("api-keys/verify"),
        http,
        Principal,
        internal_token=settings.internal_token,
        cache_s=settings.api_key_cache_s,
    )
    webhook_box = SecretBox(settings.resolved_webhook_key_path())
    webhook_settings = DispatchSettings.from_settings(settings)
    dispatcher = Dispatcher(sessions, webhook_box, webhook_settings)
    app.extensions.update(
        {
            "chatlens.webhooks": application_webhooks.Context(
                webhook_box, webhook_settings.policy, dispatcher.wake
            ),
            "chatlens.dispatcher": dispatcher,
            "chatlens.engine": engine,
            "chatlens.sessions": sessions,
            "chatlens.bus": bus,
            "chatlens.outbox": relay,
            "chatlens.http": http,
            "chatlens.verifier": verifier,
            "chatlens.api_keys": api_keys,
            "chatlens.audit": AuditLog(
                settings.internal_url("audit"), http, internal_token=settings.internal_token
            ),
            "chatlens.openapi": lambda: docs.spec.spec,
        }
    )

    web.init_correlation(app)
    tracing.init_app(app)  # after the correlation id: spans carry it
    web.init_security_headers(app)
    web.init_server_timing(app)
    web.init_errors(app, {})
    http_errors.init_app(app)
    contract.init_app(app)
    _init_upload_errors(app)
    ratelimits.init_app(
        app,
        ratelimits.RateLimits(
            settings.redis_url or "memory://",
            scale=settings.rate_limit_scale,
            uploads_per_day=settings.upload_quota_per_day,
            tokens_per_day=settings.token_quota_per_day,
        ),
    )
    web.init_health(
        app,
        ready=readiness.readiness(
            engine, bus, settings.index_replicas, services=settings.ready_requires_services
        ),
    )
    for blueprint in (auth_proxy.bp, collections.bp, jobs.bp, search.bp, versions.bp, docs.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(ask.bp)
    for blueprint in (summaries.bp, model_admin.bp, org_models.bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(tags.bp)
    app.register_blueprint(deletions.bp)
    app.register_blueprint(messages.bp)
    app.register_blueprint(openai_compat.bp)
    app.register_blueprint(analytics.bp)
    app.register_blueprint(topics.bp)
    app.register_blueprint(search_analytics.bp)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(quotas.bp)
    docs.spec.register(app)

    if settings.background:
        relay.start()
        dispatcher.start()
        consumer = bus.consumer(
            topology.GATEWAY_JOBS_QUEUE.name,
            job_event_handler(sessions, app.config["CHATLENS_UPLOAD_DIR"], relay.wake),
            prefetch=settings.bus_prefetch,
        ).start()
        app.extensions["chatlens.consumer"] = consumer
        # Dead letters: their jobs failed through the job events above, the messages parked
        # (chatlens.shared.deadletters), so nothing a crash dead-lettered stays 'running'.
        sweep = deadletters.sweeper(bus.publish, bus.park)
        app.extensions["chatlens.dead_letter_sweepers"] = [
            bus.dead_letter_sweeper(spec, sweep).start()
            for spec in deadletters.swept_queues(settings.index_replicas)
        ]
        # Auth's revocations, heard the moment they are committed (the feed's poll is the
        # fallback): see chatlens.gateway.revocation_push.
        app.extensions["chatlens.broadcasts"] = bus.subscriber(
            broadcast_routes(verifier.revocations, api_keys),
            on_connect=verifier.revocations.refresh_soon,
        ).start()
    return app


def _init_upload_errors(app: Flask) -> None:
    @app.errorhandler(413)
    def _too_large(_exc):
        limit = app.config["MAX_CONTENT_LENGTH"]
        length = request.content_length
        if length is not None and length <= limit:  # the body fits: its form's shape does not
            return web.error_response(
                413,
                "form_too_large",
                f"the form has more than {app.config['MAX_FORM_PARTS']} parts, or a field "
                f"(not a file) over {app.config['MAX_FORM_MEMORY_SIZE']} bytes",
            )
        return web.error_response(
            413, "upload_too_large", f"the request exceeds the upload limit of {limit} bytes"
        )

    @app.teardown_request
    def _discard_incoming(_exc) -> None:
        # Files of a refused request (or left over by a failure) never stay in the store.
        for stream in request.environ.get("chatlens.incoming", []):
            if stream.path.exists():
                stream.discard()
