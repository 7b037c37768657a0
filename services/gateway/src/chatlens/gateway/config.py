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

    def resolved_upload_dir(self) -> Path:
        path = self.upload_dir or self.data_dir / "uploads"
        path.mkdir(parents=True, exist_ok=True)
        return path.resolve()
