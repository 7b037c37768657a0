"""Request bodies of the auth API: strict, unknown fields refused; names held to the one rule for
user text (``chatlens.shared.text``: NFC, no control or bidi-override characters, visible)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from chatlens.auth.permissions import ALL
from chatlens.shared.text import Line

PASSWORD_MIN, PASSWORD_MAX = 12, 1024
TOKEN_MAX = 512
CODE_MAX = 32


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Body):
    email: EmailStr
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    name: Line | None = Field(default=None, max_length=200)


class LoginRequest(_Body):
    email: EmailStr
    # No minimum here: a password set under an older, looser rule must still be checkable.
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    # The TOTP code or a recovery code, required once MFA is on.
    totp: str | None = Field(default=None, min_length=1, max_length=CODE_MAX)


class RefreshRequest(_Body):
    refresh_token: str = Field(min_length=1, max_length=TOKEN_MAX)


class LogoutRequest(_Body):
    refresh_token: str | None = Field(default=None, min_length=1, max_length=TOKEN_MAX)


RoleName = Literal["owner", "admin", "analyst", "viewer"]
ID_MAX = 64


class CreateOrgRequest(_Body):
    name: Line = Field(min_length=1, max_length=200)


class SwitchOrgRequest(_Body):
    refresh_token: str = Field(min_length=1, max_length=TOKEN_MAX)
    org_id: str = Field(min_length=1, max_length=ID_MAX)


class InvitationRequest(_Body):
    email: EmailStr
    role: RoleName


class AcceptInvitationRequest(_Body):
    token: str = Field(min_length=1, max_length=TOKEN_MAX)


class RoleRequest(_Body):
    role: RoleName


class PasswordChangeRequest(_Body):
    current_password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)


class UnlinkRequest(_Body):
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class CodeRequest(_Body):
    code: str = Field(min_length=1, max_length=CODE_MAX)


class MfaDisableRequest(_Body):
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)
    code: str = Field(min_length=1, max_length=CODE_MAX)


Permission = Literal[tuple(sorted(ALL))]  # type: ignore[valid-type]


class ApiKeyRequest(_Body):
    name: Line = Field(min_length=1, max_length=200)
    scopes: list[Permission] = Field(min_length=1, max_length=len(ALL))
    expires_in_days: int = Field(default=90, ge=1, le=365)


class ApiKeyVerifyRequest(_Body):
    key: str = Field(min_length=1, max_length=TOKEN_MAX)


EVENT_PATTERN = r"^[a-z][a-z_]{0,30}\.[a-z][a-z_]{0,30}$"


class AuditQuery(_Body):
    limit: int = Field(default=100, ge=1, le=500)
    before: int | None = Field(default=None, ge=1)
    event: str | None = Field(default=None, pattern=EVENT_PATTERN)


class AuditAppendRequest(_Body):
    """An event another service records (an export, a deletion)."""

    event: str = Field(pattern=EVENT_PATTERN)
    org_id: str | None = Field(default=None, max_length=36)
    actor_id: str | None = Field(default=None, max_length=36)
    target: str | None = Field(default=None, max_length=320)
    details: dict[str, str | int | float | bool | None] = Field(default_factory=dict, max_length=20)


SECRET_NAME = r"^[a-z0-9][a-z0-9_.-]{0,63}$"


class SecretRequest(_Body):
    provider: str = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    value: str = Field(min_length=1, max_length=4096)


class SecretRevealRequest(_Body):
    org_id: str = Field(min_length=1, max_length=36)
    name: str = Field(pattern=SECRET_NAME)


class PasswordResetRequest(_Body):
    email: EmailStr


class PasswordResetConfirm(_Body):
    token: str = Field(min_length=1, max_length=TOKEN_MAX)
    new_password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
