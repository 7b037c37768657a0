"""What the request handlers need, built once by ``create_app`` and kept on the Flask app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from chatlens.auth.broadcasts import RevocationBroadcaster
from chatlens.auth.config import AuthSettings
from chatlens.auth.keys import Keyring, SigningKey
from chatlens.auth.password_policy import PasswordPolicy
from chatlens.auth.passwords import Passwords
from chatlens.auth.provider_secrets import SecretBox
from chatlens.auth.refresh import RefreshTokens
from chatlens.auth.throttle import Throttle
from chatlens.auth.tokens import AccessTokens

EXTENSION = "chatlens.auth"


@dataclass(frozen=True)
class Runtime:
    settings: AuthSettings
    engine: Engine
    sessions: sessionmaker[Session]
    keyring: Keyring
    passwords: Passwords
    access_tokens: AccessTokens
    refresh_tokens: RefreshTokens
    password_policy: PasswordPolicy
    throttle: Throttle
    secret_box: SecretBox
    # Publishes revocations after commit (None when PUBLISH_REVOCATIONS is off).
    broadcaster: RevocationBroadcaster | None = None

    @property
    def signing_key(self) -> SigningKey:
        """The key signing new tokens now."""
        return self.keyring.active()


def current() -> Runtime:
    """The runtime of the app serving the current request."""
    return current_app.extensions[EXTENSION]
