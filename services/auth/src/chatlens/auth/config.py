"""The auth service's settings, read once from the environment at the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, field_validator, model_validator

from chatlens.shared.settings import CommonSettings

SERVICE = "auth"


class AuthSettings(CommonSettings):
    """Environment variables are the field names upper-cased (``DATABASE_URL``, ``PORT``...)."""

    # Empty means the embedded default: a SQLite file under DATA_DIR/auth.
    database_url: str = ""
    # None means DATA_DIR/auth/jwt-private.pem, generated on first start.
    jwt_private_key_path: Path | None = None
    jwt_issuer: str = "chatlens-auth"
    jwt_audience: str = "chatlens"
    access_ttl_s: int = Field(default=900, gt=0)
    refresh_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    auto_migrate: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8101, ge=0, le=65535)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 "low memory"). Tests turn them down.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)

    @field_validator("jwt_private_key_path", mode="before")
    @classmethod
    def _empty_path_is_default(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _fill_defaults(self) -> AuthSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / SERVICE / 'auth.db'}"
        if self.jwt_private_key_path is None:
            self.jwt_private_key_path = self.data_dir / SERVICE / "jwt-private.pem"
        return self

    @property
    def key_path(self) -> Path:
        """The private key file (always set once validated)."""
        assert self.jwt_private_key_path is not None
        return self.jwt_private_key_path
