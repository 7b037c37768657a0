"""The auth service's domain errors and the one table that turns them into HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import DataError, OperationalError

from chatlens.shared import web

log = logging.getLogger(__name__)


class AuthError(Exception):
    """Base of every error the auth domain raises on purpose."""


class EmailTaken(AuthError):
    pass


class InvalidCredentials(AuthError):
    """Wrong email or wrong password: one error, one message, so login never tells them apart."""

    def __init__(self) -> None:
        super().__init__("wrong email or password")


class MfaRequired(AuthError):
    """Right password, but the account has TOTP on and the login carried no code."""


class InvalidMfaCode(AuthError):
    pass


class RefreshTokenInvalid(AuthError):
    pass


class RefreshTokenExpired(RefreshTokenInvalid):
    pass


class RefreshTokenReused(RefreshTokenInvalid):
    pass


class AccessTokenInvalid(AuthError):
    pass


class AccessTokenMissing(AccessTokenInvalid):
    pass


class AccessTokenExpired(AccessTokenInvalid):
    pass


class Forbidden(AuthError):
    """The caller is signed in but their role in this org does not allow the action."""


class NotFound(AuthError):
    """No such thing in the caller's org: also the answer for another org's ids."""


class Conflict(AuthError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class PasswordRejected(AuthError):
    """A new password that is too common or too weak."""


class Throttled(AuthError):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many attempts; retry in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s


class PasswordsBusy(AuthError):
    """Every password-hashing slot stayed taken (a sign-in storm): retry shortly."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"too many sign-ins at once; retry in {retry_after_s} seconds")
        self.retry_after_s = retry_after_s


TABLE: dict[type[Exception], tuple[int, str]] = {
    EmailTaken: (409, "email_taken"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    PasswordRejected: (422, "weak_password"),
    InvalidCredentials: (401, "invalid_credentials"),
    MfaRequired: (401, "mfa_required"),
    InvalidMfaCode: (401, "invalid_mfa_code"),
    RefreshTokenInvalid: (401, "invalid_token"),
    RefreshTokenExpired: (401, "token_expired"),
    RefreshTokenReused: (401, "token_reused"),
}

# Bearer failures also carry WWW-Authenticate (RFC 6750), so they get their own handler.
BEARER_TABLE: dict[type[AccessTokenInvalid], tuple[str, str]] = {
    AccessTokenMissing: ("unauthorized", 'Bearer realm="chatlens"'),
    AccessTokenInvalid: ("invalid_token", 'Bearer realm="chatlens", error="invalid_token"'),
    AccessTokenExpired: ("token_expired", 'Bearer realm="chatlens", error="invalid_token"'),
}


def init_app(app: Flask, more: dict[type[Exception], tuple[int, str]] | None = None) -> None:
    """Register the JSON error handlers for every error above (and ``more``), and 503 when the
    database is down."""
    web.init_errors(app, {**TABLE, **(more or {})})

    for exc_type, (code, challenge) in BEARER_TABLE.items():
        app.register_error_handler(
            exc_type,
            lambda exc, c=code, h=challenge: web.error_response(
                401, c, str(exc), {"WWW-Authenticate": h}
            ),
        )

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict):
        return web.error_response(409, exc.code, str(exc))

    @app.errorhandler(Throttled)
    def _throttled(exc: Throttled):
        return web.error_response(
            429, "too_many_attempts", str(exc), {"Retry-After": str(exc.retry_after_s)}
        )

    @app.errorhandler(PasswordsBusy)
    def _passwords_busy(exc: PasswordsBusy):
        return web.error_response(503, "busy", str(exc), {"Retry-After": str(exc.retry_after_s)})

    @app.errorhandler(DataError)
    def _value_the_database_refuses(exc: DataError):
        # PostgreSQL refuses some values MariaDB and SQLite store or compare (a NUL character in
        # an id, say): that is the client's input, not a fault of the service.
        log.info("the database refused a value: %s", exc.orig)
        return web.error_response(
            400, "invalid_value", "a value in the request cannot be stored (e.g. a NUL character)"
        )

    @app.errorhandler(OperationalError)
    def _database_unavailable(exc: OperationalError):
        # The driver's message names hosts and SQL: it goes to the log, not to the client.
        log.exception("database error")
        return web.error_response(
            503,
            "database_unavailable",
            "the database is unavailable; retry shortly",
            {"Retry-After": "5"},
        )
