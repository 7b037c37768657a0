"""Request bodies of the auth API: strict, unknown fields refused."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, EmailStr, Field

PASSWORD_MIN, PASSWORD_MAX = 12, 1024
TOKEN_MAX = 512


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class RegisterRequest(_Body):
    email: EmailStr
    password: str = Field(min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
    name: str | None = Field(default=None, max_length=200)


class LoginRequest(_Body):
    email: EmailStr
    # No minimum here: a password set under an older, looser rule must still be checkable.
    password: str = Field(min_length=1, max_length=PASSWORD_MAX)


class RefreshRequest(_Body):
    refresh_token: str = Field(min_length=1, max_length=TOKEN_MAX)


class LogoutRequest(_Body):
    refresh_token: str | None = Field(default=None, min_length=1, max_length=TOKEN_MAX)
