"""The auth service's settings, read once from the environment at the composition root."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import NoDecode

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
    # A retired signing key stays in the JWKS for the access TTL plus this (caches, clock skew).
    retired_key_keep_s: int = Field(default=3600, ge=0)
    # The public base URL (nginx or the gateway): OAuth redirect URIs are built on it, exactly.
    public_url: str = "http://127.0.0.1:8080"
    # OAuth login; a provider is offered once its client id and secret are set.
    oauth_github_client_id: str = ""
    oauth_github_client_secret: str = ""
    oauth_github_authorize_url: str = "https://github.com/login/oauth/authorize"
    oauth_github_token_url: str = "https://github.com/login/oauth/access_token"
    oauth_github_userinfo_url: str = "https://api.github.com/user"
    oauth_google_client_id: str = ""
    oauth_google_client_secret: str = ""
    oauth_google_authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    oauth_google_token_url: str = "https://oauth2.googleapis.com/token"
    oauth_google_userinfo_url: str = "https://openidconnect.googleapis.com/v1/userinfo"
    # Password reset: how long a link works, how often one may be asked for (a request past the
    # per-address limit is a 429; past the per-account one it is answered the same and sends
    # nothing, so the answer never tells whether the address has an account).
    password_reset_ttl_s: int = Field(default=1800, gt=0, le=86400)
    reset_limit_per_address: str = "10 per hour"
    reset_limit_per_account: str = "3 per hour"
    # SMTP for the reset e-mails (chatlens.auth.mailer); no host, no e-mail: the admin CLI's
    # reset-link prints a link to hand over instead.
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_from: str = "Chatlens <no-reply@localhost>"
    auto_migrate: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8101, ge=0, le=65535)
    # argon2id cost; the defaults are argon2-cffi's (RFC 9106 "low memory"). Tests turn them down.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # Hashes at once (about 0.2 CPU-s each with the defaults); a request that waits longer than
    # PASSWORD_HASH_WAIT_S for one is 503 busy with Retry-After (chatlens.auth.passwords). The
    # wait is short so that refusals are quick: a refused sign-in frees its thread (and the
    # gateway's, waiting on it) at once, rather than after the queue has grown.
    password_hash_slots: int = Field(default=2, ge=1, le=64)
    password_hash_wait_s: float = Field(default=0.2, ge=0, le=30)
    # How many proxies in front of auth set X-Forwarded-For (the gateway: 1). The client address
    # is what throttling and the sessions list use; 0 trusts no header.
    trusted_proxies: int = Field(default=1, ge=0, le=5)
    # Login and second-factor throttling (``limits`` notation and storage URI).
    rate_limit_storage_uri: str = "memory://"
    login_limit_per_pair: str = "5 per 5 minutes"
    login_limit_per_address: str = "30 per 15 minutes"
    login_limit_per_account: str = "20 per 15 minutes"
    code_limit_per_user: str = "5 per 5 minutes"

    # Fernet keys of the provider secrets; None means DATA_DIR/auth/secrets.keys.
    secrets_key_path: Path | None = None
    # Shared secret the other services send as X-Internal-Token to /internal/*. Empty: those
    # routes rely on the network alone, and the one that reveals provider secrets is off.
    internal_token: str = ""
    # Platform administrators (model administration, shared by every org) besides the users the
    # admin CLI flags: e-mails, comma-separated in PLATFORM_ADMIN_EMAILS. Owning an org is not it.
    # Broadcast every revocation to the gateways over the bus (AMQP_URL) as it is committed
    # (chatlens.auth.broadcasts); off, they learn it from polling the feed alone.
    publish_revocations: bool = True
    platform_admin_emails: Annotated[frozenset[str], NoDecode] = frozenset()

    @field_validator("platform_admin_emails", mode="before")
    @classmethod
    def _split_emails(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.split(",")
        return frozenset(e.strip().lower() for e in value if e.strip())

    @field_validator("jwt_private_key_path", "secrets_key_path", mode="before")
    @classmethod
    def _empty_path_is_default(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _fill_defaults(self) -> AuthSettings:
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / SERVICE / 'auth.db'}"
        if self.jwt_private_key_path is None:
            self.jwt_private_key_path = self.data_dir / SERVICE / "jwt-private.pem"
        if self.secrets_key_path is None:
            self.secrets_key_path = self.data_dir / SERVICE / "secrets.keys"
        return self

    @property
    def key_path(self) -> Path:
        """The private key file (always set once validated)."""
        assert self.jwt_private_key_path is not None
        return self.jwt_private_key_path
