"""OAuth login with GitHub and Google (authlib): state and PKCE (S256), exact redirect URIs,
identities keyed by (provider, subject).

A login through a provider finds the user by their identity, never by email. If no identity
matches but the provider's verified email belongs to an account, nothing is linked: the user
signs in with their password and links the provider from there (a link request carries their
user id in its state). A new email makes a new account with an unusable password.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.requests_client import OAuth2Session
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from chatlens.auth import accounts
from chatlens.auth.accounts import Account
from chatlens.auth.config import AuthSettings
from chatlens.auth.errors import AuthError, Conflict
from chatlens.auth.passwords import Passwords
from chatlens.auth.refresh import token_hash
from chatlens.auth.tables import OAuthIdentity, OAuthState, User, utcnow

log = logging.getLogger(__name__)

STATE_TTL = timedelta(minutes=10)
LABELS = {"github": "GitHub", "google": "Google"}
TIMEOUT_S = 10


class OAuthFailed(AuthError):
    """The provider refused the code exchange or gave no usable profile."""


class InvalidState(AuthError):
    """Unknown, used, expired or other-provider state: a forged or replayed callback."""


@dataclass(frozen=True)
class Provider:
    name: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    userinfo_url: str
    scope: str


def providers(settings: AuthSettings) -> dict[str, Provider]:
    """The configured providers (those with a client id and secret)."""
    found = {}
    for name, scope in (("github", "read:user user:email"), ("google", "openid email profile")):
        client_id = getattr(settings, f"oauth_{name}_client_id")
        secret = getattr(settings, f"oauth_{name}_client_secret")
        if client_id and secret:
            found[name] = Provider(
                name,
                client_id,
                secret,
                getattr(settings, f"oauth_{name}_authorize_url"),
                getattr(settings, f"oauth_{name}_token_url"),
                getattr(settings, f"oauth_{name}_userinfo_url"),
                scope,
            )
    return found


def redirect_uri(settings: AuthSettings, provider: str) -> str:
    return f"{settings.public_url.rstrip('/')}/api/v1/auth/oauth/{provider}/callback"


def start(session: Session, provider: Provider, redirect: str, link_user_id: str | None) -> str:
    """Record a new state and PKCE verifier; the provider's authorization URL."""
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    client = OAuth2Session(
        provider.client_id,
        provider.client_secret,
        scope=provider.scope,
        redirect_uri=redirect,
        code_challenge_method="S256",
    )
    url, _ = client.create_authorization_url(
        provider.authorize_url, state=state, code_verifier=verifier
    )
    now = utcnow()
    session.add(
        OAuthState(
            state_hash=token_hash(state),
            provider=provider.name,
            code_verifier=verifier,
            link_user_id=link_user_id,
            created_at=now,
            expires_at=now + STATE_TTL,
        )
    )
    return url


def take_state(session: Session, provider: str, state: str) -> OAuthState:
    """Spend the state of a callback (once), or :class:`InvalidState`."""
    row = session.get(OAuthState, token_hash(state))
    if row is None or row.provider != provider or row.expires_at <= utcnow():
        raise InvalidState("the OAuth state is unknown or expired; start again")
    won = session.execute(
        update(OAuthState)
        .where(OAuthState.state_hash == row.state_hash, OAuthState.used_at.is_(None))
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if won != 1:
        raise InvalidState("the OAuth state was already used; start again")
    return row


def profile(provider: Provider, redirect: str, code: str, verifier: str) -> tuple[str, str | None]:
    """Exchange the code (with the PKCE verifier); the provider's (subject, verified email)."""
    client = OAuth2Session(
        provider.client_id, provider.client_secret, redirect_uri=redirect, default_timeout=TIMEOUT_S
    )
    try:
        client.fetch_token(provider.token_url, code=code, code_verifier=verifier)
        info = _json(client.get(provider.userinfo_url))
        if provider.name == "github":
            subject = str(info.get("id") or "")
            emails = _json(client.get(provider.userinfo_url.rstrip("/") + "/emails"))
            email = next(
                (
                    e.get("email")
                    for e in emails
                    if isinstance(e, dict) and e.get("primary") and e.get("verified")
                ),
                None,
            )
        else:
            subject = str(info.get("sub") or "")
            email = info.get("email") if info.get("email_verified") is True else None
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        log.warning(
            "OAuth code exchange failed",
            extra={"provider": provider.name, "reason": str(exc)[:200]},
        )
        raise OAuthFailed("the provider refused the sign-in; start again") from None
    if not subject or len(subject) > 255:
        raise OAuthFailed("the provider gave no usable account id")
    return subject, email if isinstance(email, str) and len(email) <= 320 else None


def sign_in(
    session: Session, passwords: Passwords, provider: str, subject: str, email: str | None
) -> Account:
    """The account of this identity, or a new one; never an existing account found by email."""
    identity = session.get(OAuthIdentity, {"provider": provider, "subject": subject})
    if identity is not None:
        account = accounts.account_in(session, identity.user_id, None)
        if account is None:
            raise OAuthFailed("this account is disabled")
        return account
    if email is None:
        raise OAuthFailed("the provider gave no verified email; sign up with a password")
    taken = session.scalar(select(User.id).where(User.email == accounts.normalise_email(email)))
    if taken is not None:
        raise Conflict("link_required", "sign in with your password, then link this provider")
    account = accounts.register(session, passwords, email, secrets.token_urlsafe(32), None)
    session.add(
        OAuthIdentity(provider=provider, subject=subject, user_id=account.user.id, email=email)
    )
    log.info(
        "account created through OAuth", extra={"provider": provider, "user_id": account.user.id}
    )
    return account


def link(session: Session, user_id: str, provider: str, subject: str, email: str | None) -> None:
    identity = session.get(OAuthIdentity, {"provider": provider, "subject": subject})
    if identity is not None and identity.user_id != user_id:
        raise Conflict("identity_in_use", "this provider account is linked to another user")
    if identity is None:
        session.add(OAuthIdentity(provider=provider, subject=subject, user_id=user_id, email=email))


def identities(session: Session, user_id: str) -> list[OAuthIdentity]:
    """The provider accounts linked to ``user_id``, oldest first."""
    return list(
        session.scalars(
            select(OAuthIdentity)
            .where(OAuthIdentity.user_id == user_id)
            .order_by(OAuthIdentity.created_at, OAuthIdentity.provider)
        )
    )


def unlink(session: Session, user_id: str, provider: str) -> int:
    """Remove every account of ``provider`` linked to ``user_id``; how many there were."""
    rows = [i for i in identities(session, user_id) if i.provider == provider]
    for row in rows:
        session.delete(row)
    if rows:
        log.info("provider unlinked", extra={"provider": provider, "user_id": user_id})
    return len(rows)


def _json(response):
    response.raise_for_status()
    return response.json()
