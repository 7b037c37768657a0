"""The gateway's settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from chatlens.shared.settings import ArchiveSettings


class GatewaySettings(ArchiveSettings):
    port: int = 8100
    database_url: str = ""
    upload_dir: Path | None = None
    auth_url: str = "http://127.0.0.1:8101"
    # Where auth publishes its public keys; derived from AUTH_URL unless set.
    jwks_url: str | None = None
    jwt_issuer: str = "chatlens-auth"
    jwt_audience: str = "chatlens"
    # Shared secret sent to auth's /internal/* routes as X-Internal-Token (auth's INTERNAL_TOKEN).
    internal_token: str = ""
    # How often the revocation feed is fetched again. Auth broadcasts each revocation over the bus
    # as it is committed (refused at once); this poll bounds the window when a broadcast is lost
    # (bus down, auth crashed between commit and publish). Two small documents a second.
    revocations_refresh_s: float = Field(default=0.5, ge=0, le=30)
    # How long an API key that auth accepted is trusted without asking again (a revoked key is
    # refused at once by auth's broadcast, within this when the broadcast is lost).
    api_key_cache_s: float = Field(default=0.5, ge=0, le=30)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_files_per_upload: int = Field(default=20, ge=1)
    # Zip uploads are decompressed once at upload time to check them (chatlens.shared.archives),
    # within the ARCHIVE_* limits of ArchiveSettings, which the embedding worker applies too.
    outbox_poll_s: float = 0.2
    sse_poll_s: float = 0.5
    sse_max_s: float = 3600.0
    search_timeout_s: float = 15.0
    # Answers (RAG) and the OpenAI-compatible endpoints: generation is slower than search.
    generation_timeout_s: float = 120.0
    # Retrieved messages below this semantic similarity (and without a keyword match) are not
    # evidence; when none is left the answer says so without asking the model.
    answer_min_score: float = 0.2
    # Deleting messages waits for the index; a purge rewrites the whole history, so it may take
    # minutes on a large collection (a 503 then means "still running": repeating it is safe).
    deletion_timeout_s: float = Field(default=300.0, gt=0)
    answer_max_tokens: int = Field(default=160, ge=1, le=1024)
    # Summaries: a window of more messages is refused (413 window_too_large) rather than
    # summarised for minutes; the inference service bounds the map steps the same way.
    summary_max_messages: int = Field(default=1000, ge=1, le=5000)
    summary_max_tokens: int = Field(default=160, ge=16, le=1024)
    summary_timeout_s: float = Field(default=600.0, gt=0)
    # Rate limits and quotas (chatlens.gateway.ratelimits): counters in Redis when REDIS_URL is
    # set (shared by every replica), else in this process. RATE_LIMIT_SCALE multiplies every
    # limit of the table (tests and benchmarks raise it); the daily quotas count per org.
    redis_url: str = ""
    rate_limit_scale: float = Field(default=1.0, gt=0, le=1_000_000)
    upload_quota_per_day: int = Field(default=2000, ge=1)
    token_quota_per_day: int = Field(default=2_000_000, ge=1)
    # Server-Timing on every response (a debug setting; benches turn it on). Off: only platform
    # administrators' responses carry it, so nobody else learns how long our internals take.
    server_timing: bool = False
    auto_migrate: bool = True
    # /readyz also needs a consumer on each RPC queue the gateway calls (embedding, every index
    # replica, inference): chatlens.gateway.readiness. Off: the database alone.
    ready_requires_services: bool = True
    # Background work (outbox relay, job events) runs in the serving process unless turned off,
    # e.g. for a test that drives it by hand.
    background: bool = True
    # Request threads of the serving process. A generation holds one for as long as the model
    # writes, so at most MAX_CONCURRENT_GENERATIONS of them do (application.capacity: the next is
    # a 503 with Retry-After); the rest stay free for searches, dashboards and uploads.
    threads: int = Field(default=32, ge=2, le=256)
    max_concurrent_generations: int = Field(default=8, ge=1, le=256)
    # Proxies in front of the gateway whose X-Forwarded-* headers are trusted: nginx alone.
    trusted_proxies: int = Field(default=1, ge=0, le=5)

    # Webhooks (chatlens.gateway.webhooks): signing secrets are Fernet-encrypted with the keys in
    # WEBHOOK_SECRETS_KEY_PATH (generated on first start; every gateway replica must mount the
    # same file). A URL whose host resolves to a private, loopback, link-local or otherwise
    # non-public address is refused unless WEBHOOK_ALLOW_PRIVATE; http:// unless WEBHOOK_ALLOW_HTTP.
    webhook_secrets_key_path: Path | None = None
    webhook_allow_private: bool = False
    webhook_allow_http: bool = False
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # Attempts before a delivery is dead; the wait before attempt n+1 is exponential from
    # WEBHOOK_BACKOFF_S (doubling, capped at WEBHOOK_BACKOFF_MAX_S) plus random jitter.
    webhook_max_attempts: int = Field(default=12, ge=1, le=50)
    webhook_backoff_s: float = Field(default=10.0, gt=0)
    webhook_backoff_max_s: float = Field(default=3600.0, gt=0)
    # A claimed delivery's lease: another replica takes it over only after this (a crashed
    # sender's row is sent again then: at least once). Must exceed the timeout.
    webhook_lease_s: float = Field(default=60.0, gt=0)
    webhook_poll_s: float = Field(default=1.0, gt=0)
    # Deliveries one gateway process sends at once.
    webhook_concurrency: int = Field(default=4, ge=1, le=64)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        folder = self.data_dir / "gateway"
        folder.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{folder.resolve() / 'gateway.db'}"

    def resolved_jwks_url(self) -> str:
        return self.jwks_url or f"{self.auth_url.rstrip('/')}/.well-known/jwks.json"

    def internal_url(self, path: str) -> str:
        return f"{self.auth_url.rstrip('/')}/internal/v1/{path}"

    def resolved_webhook_key_path(self) -> Path:
        return self.webhook_secrets_key_path or self.data_dir / "gateway" / "webhook-secrets.keys"

    def resolved_upload_dir(self) -> Path:
        path = self.upload_dir or self.data_dir / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
