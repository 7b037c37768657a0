"""Typed settings read from the environment once, at a service's composition root.

Every service subclasses :class:`CommonSettings` and adds its own fields; nothing reads
``os.environ`` anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from chatlens.shared.archives import ArchiveLimits


class CommonSettings(BaseSettings):
    """Settings every service has. Environment variable names are the field names, upper-cased."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/%2F"
    data_dir: Path = Path("var")
    log_level: str = "INFO"
    # Error reports (chatlens.shared.error_reports): off unless SENTRY_DSN is set.
    sentry_dsn: str | None = None
    sentry_environment: str = "production"
    sentry_release: str | None = None  # default: chatlens@<version>
    # Traces (chatlens.shared.tracing): exported to this OTLP gRPC endpoint when set.
    otel_exporter_otlp_endpoint: str | None = None
    # Port of the small /healthz, /readyz, /metrics server of services without an HTTP API.
    health_port: int = 0
    # Interface the HTTP listeners bind to: loopback on a laptop, 0.0.0.0 in a container.
    host: str = "127.0.0.1"
    bus_prefetch: int = Field(default=8, ge=1, le=1000)
    rpc_timeout_s: float = Field(default=30.0, gt=0)
    # How many index replicas share the collections (``topology.index_replica``). Every service
    # that talks to the index must be told the same number: it decides the routing keys.
    index_replicas: int = Field(default=1, ge=1, le=64)
    # Org model endpoints may point at private, loopback or link-local addresses (a vLLM or
    # Ollama inside the deployment): chatlens.shared.egress. The gateway checks when one is
    # saved, the inference service before and at each call: give both the same value.
    endpoint_allow_private: bool = False


def service_dir(settings: CommonSettings, name: str) -> Path:
    """The service's own folder under ``DATA_DIR``, created if missing."""
    path = settings.data_dir / name
    path.mkdir(parents=True, exist_ok=True)
    return path


class ArchiveSettings(CommonSettings):
    """Settings of a service that reads uploaded zip archives (the gateway checks them at upload,
    the embedding worker reads them): one set of ``ARCHIVE_*`` variables, so both apply the same
    limits. The defaults are :class:`~chatlens.shared.archives.ArchiveLimits`' own."""

    archive_max_entries: int = Field(default=ArchiveLimits.max_entries, ge=1)
    # Decompressed bytes of one archive, nested archives included.
    archive_max_bytes: int = Field(default=ArchiveLimits.max_total_bytes, ge=1)
    archive_max_ratio: float = Field(default=ArchiveLimits.max_ratio, gt=1)
    archive_max_depth: int = Field(default=ArchiveLimits.max_depth, ge=0)

    def archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(
            max_entries=self.archive_max_entries,
            max_total_bytes=self.archive_max_bytes,
            max_ratio=self.archive_max_ratio,
            max_depth=self.archive_max_depth,
        )
