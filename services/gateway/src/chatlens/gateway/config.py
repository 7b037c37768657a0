"""The gateway's settings, read once from the environment."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from chatlens.shared.archives import ArchiveLimits
from chatlens.shared.settings import CommonSettings


class GatewaySettings(CommonSettings):
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
    # How often the revocation feed is fetched again: a logged-out session or a user's "sign out
    # everywhere" reaches us within this many seconds.
    revocations_refresh_s: float = Field(default=5.0, ge=0, le=30)
    # How long an API key that auth accepted is trusted without asking again.
    api_key_cache_s: float = Field(default=30.0, ge=0, le=30)
    max_upload_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    max_files_per_upload: int = Field(default=20, ge=1)
    # Zip uploads are decompressed once at upload time to check them (chatlens.shared.archives):
    # these bound what one archive may cost, nested archives included.
    archive_max_entries: int = Field(default=10_000, ge=1)
    archive_max_bytes: int = Field(default=2 * 1024**3, ge=1)
    archive_max_ratio: float = Field(default=200.0, gt=1)
    archive_max_depth: int = Field(default=2, ge=0)
    outbox_poll_s: float = 0.2
    sse_poll_s: float = 0.5
    sse_max_s: float = 3600.0
    search_timeout_s: float = 15.0
    # Answers (RAG) and the OpenAI-compatible endpoints: generation is slower than search.
    generation_timeout_s: float = 120.0
    # Retrieved messages below this semantic similarity (and without a keyword match) are not
    # evidence; when none is left the answer says so without asking the model.
    answer_min_score: float = 0.2
    answer_max_tokens: int = Field(default=160, ge=1, le=1024)
    auto_migrate: bool = True
    # Background work (outbox relay, job events) runs in the serving process unless turned off,
    # e.g. for a test that drives it by hand.
    background: bool = True
    threads: int = 8

    def archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(max_entries=self.archive_max_entries,
                             max_total_bytes=self.archive_max_bytes,
                             max_ratio=self.archive_max_ratio, max_depth=self.archive_max_depth)

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

    def resolved_upload_dir(self) -> Path:
        path = self.upload_dir or self.data_dir / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
