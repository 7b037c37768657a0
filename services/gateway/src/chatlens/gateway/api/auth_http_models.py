"""The auth service's public HTTP bodies, as the gateway documents them (OpenAPI only).

The gateway relays ``/api/v1/auth/*`` and ``/api/v1/me`` to auth unchanged
(``api/auth_proxy.py``) and never imports the auth package, so the bodies are restated here for
the document the web app's typed client is generated from. ``tests/test_auth_openapi.py`` runs
the real auth service and fails when a route is missing here or a body disagrees with what auth
really answers. Request bodies mirror auth's strict ones (unknown fields refused).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

RoleName = Literal["owner", "admin", "analyst", "viewer"]
Permission = Literal[
    "answers:create",
    "audit:read",
    "collections:purge",
    "collections:read",
    "collections:write",
    "keys:manage",
    "members:manage",
    "members:read",
    "search:read",
    "secrets:manage",
    "uploads:create",
    "webhooks:manage",
]
PASSWORD_MIN, PASSWORD_MAX, TOKEN_MAX, CODE_MAX, ID_MAX = 12, 1024, 512, 32, 64
EMAIL: dict[str, Any] = {"format": "email"}
EVENT_PATTERN = r"^[a-z][a-z_]{0,30}\.[a-z][a-z_]{0,30}$"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Answer(BaseModel):
    # additionalProperties: false, so a field auth adds fails the test until it is documented.
    model_config = ConfigDict(extra="forbid")


# --- requests --------------------------------------------------------------------------------


class RegisterRequest(_Request):
    email: str = Field(max_length=320, json_schema_extra=EMAIL)
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    name: str | None = Field(default=None, max_length=200)


class LoginRequest(_Request):
    email: str = Field(max_length=320, json_schema_extra=EMAIL)
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    totp: str | None = Field(
        default=None,
        min_length=1,
        max_length=CODE_MAX,
        description="The TOTP code or a recovery code, once MFA is on.",
    )


class RefreshRequest(_Request):
    refresh_token: str = Field(
        min_length=1,
        max_length=TOKEN_MAX,
        description="In cookie mode the cookie's token is spent instead.",
    )


class LogoutRequest(_Request):
    refresh_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=TOKEN_MAX,
        description="Also ends this refresh token's family.",
    )


class UnlinkRequest(_Request):
    password: str = Field(min_length=1, max_length=PASSWORD_MAX, description="the caller's")


class PasswordChangeRequest(_Request):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class PasswordResetRequest(_Request):
    email: str = Field(max_length=320, json_schema_extra=EMAIL)


class PasswordResetConfirm(_Request):
    token: str = Field(
        min_length=1, max_length=TOKEN_MAX, description="from the reset link (its #token=...)"
    )
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class CodeRequest(_Request):
    code: str = Field(min_length=1, max_length=CODE_MAX)


class MfaDisableRequest(_Request):
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    code: str = Field(min_length=1, max_length=CODE_MAX)


class CreateOrgRequest(_Request):
    name: str = Field(min_length=1, max_length=200)


class SwitchOrgRequest(_Request):
    refresh_token: str = Field(min_length=1, max_length=TOKEN_MAX)
    org_id: str = Field(min_length=1, max_length=ID_MAX)


class RoleRequest(_Request):
    role: RoleName


class InvitationRequest(_Request):
    email: str = Field(max_length=320, json_schema_extra=EMAIL)
    role: RoleName


class AcceptInvitationRequest(_Request):
    token: str = Field(min_length=1, max_length=TOKEN_MAX)


class ApiKeyRequest(_Request):
    name: str = Field(min_length=1, max_length=200)
    scopes: list[Permission] = Field(min_length=1, max_length=11)
    expires_in_days: int = Field(default=90, ge=1, le=365)


class SecretRequest(_Request):
    provider: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    value: str = Field(min_length=1, max_length=4096)


class AuditQuery(_Request):
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(default=None, ge=1, description="Events older than this id.")
    event: str | None = Field(default=None, pattern=EVENT_PATTERN)


# --- responses -------------------------------------------------------------------------------


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class TokenPair(_Answer):
    access_token: str = Field(description="A signed JWT (RS256); send it as a bearer token.")
    refresh_token: str = Field(  # type: ignore[assignment]  # absent, never null: see below
        default=None,
        json_schema_extra=_no_default,
        description="Single use: spend it at /api/v1/auth/refresh. Absent in cookie mode "
        "(X-Chatlens-Session: cookie), where it travels in an HttpOnly cookie.",
    )
    token_type: Literal["Bearer"]
    expires_in: int = Field(description="Seconds the access token lives.")


class TokenPairWithCodes(TokenPair):
    recovery_codes: list[str] = Field(description="Shown once; each works once instead of TOTP.")


class OrgRole(_Answer):
    id: str
    name: str
    role: RoleName


class Account(_Answer):
    id: str
    email: str
    name: str | None
    org: OrgRole


class Me(Account):
    platform_admin: bool = Field(description="May administer models, whatever the org.")


class OrgList(_Answer):
    orgs: list[OrgRole]
    active: str = Field(description="The org of the caller's access token.")


class Member(_Answer):
    id: str
    email: str
    name: str | None
    role: RoleName
    joined_at: datetime


class MemberList(_Answer):
    members: list[Member]


class RoleChanged(_Answer):
    id: str
    role: RoleName
    old_role: RoleName


class Invitation(_Answer):
    id: str
    email: str
    role: RoleName
    created_at: datetime
    expires_at: datetime


class InvitationCreated(Invitation):
    token: str = Field(description="Shown once: the invitee accepts with it.")


class InvitationList(_Answer):
    invitations: list[Invitation]


class InvitationAccepted(_Answer):
    org: OrgRole


class ApiKey(_Answer):
    id: str
    name: str
    user_id: str
    scopes: list[Permission]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked: bool


class ApiKeyCreated(ApiKey):
    key: str = Field(description="Shown once: send it as a bearer token.")


class ApiKeyList(_Answer):
    api_keys: list[ApiKey]


class Secret(_Answer):
    name: str
    provider: str
    hint: str = Field(description="The last characters of the value, never the value.")
    updated_at: datetime


class SecretList(_Answer):
    secrets: list[Secret]


class Session(_Answer):
    id: str
    org_id: str
    address: str | None
    user_agent: str | None
    started_at: datetime
    last_seen_at: datetime
    current: bool = Field(description="The session of the caller's access token.")


class SessionList(_Answer):
    sessions: list[Session]


class AuditEvent(_Answer):
    id: int
    at: datetime
    event: str
    org_id: str | None
    actor_id: str | None
    target: str | None
    address: str | None
    user_agent: str | None
    correlation_id: str | None
    details: dict[str, Any]


class AuditPage(_Answer):
    events: list[AuditEvent]
    next_before: int | None = Field(description="Pass as ?before= for the next page.")


class MfaStatus(_Answer):
    totp: bool
    recovery_codes_left: int


class TotpEnrollment(_Answer):
    secret: str
    otpauth_uri: str
    qr_svg: str


class RecoveryCodes(_Answer):
    recovery_codes: list[str]


class OAuthStart(_Answer):
    authorization_url: str


class OAuthLinked(_Answer):
    linked: str


class OAuthIdentity(_Answer):
    provider: str = Field(description="github or google")
    label: str = Field(description="the provider's name to show")
    email: str | None = Field(description="the provider account's email, when it gave one")
    linked_at: datetime


class OAuthIdentities(_Answer):
    identities: list[OAuthIdentity] = Field(
        description="the provider accounts that sign in as the caller, oldest first"
    )


class PasswordResetAccepted(_Answer):
    message: str = Field(description="the same whether or not the address has an account")


class OAuthProvider(_Answer):
    name: str = Field(description="github or google")
    label: str = Field(description="the name to show on a button")
    start_url: str = Field(description="GET it for the provider's sign-in URL")


class OAuthProviders(_Answer):
    providers: list[OAuthProvider] = Field(description="those with a client id and secret set")


class Jwk(BaseModel):
    model_config = ConfigDict(extra="allow")  # members depend on the key type (RFC 7517)
    kty: str
    kid: str


class Jwks(_Answer):
    keys: list[Jwk]
