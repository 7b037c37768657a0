"""Password reset over HTTP: ask for a link (always 202), then set a new password with it.

``POST /api/v1/auth/password-reset {email}`` answers 202 whether or not the address has an
account (past the per-address limit: 429). With SMTP configured, an account's address gets a
link; without, nothing is sent and an administrator hands out ``admin reset-link EMAIL``.
``POST /api/v1/auth/password-reset/confirm {token, new_password}`` sets the password, ends every
session of the user (each refresh-token family) and is audited; MFA stays as it was.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, request

from chatlens.auth import accounts, audit, mailer, password_resets, runtime, sessions
from chatlens.auth.http_models import PasswordResetConfirm, PasswordResetRequest
from chatlens.shared.web import json_body

blueprint = Blueprint("password_reset", __name__)
ACCEPTED = {
    "message": "If an account has this address, a link to reset its password is on its "
    "way. It works once, for a short time."
}
SUBJECT = "Reset your Chatlens password"
BODY = """Someone asked to reset the password of the Chatlens account of this address.

To choose a new password, open this link within {minutes} minutes (it works once):

{link}

If it was not you, ignore this message: your password stays as it is.
"""


@blueprint.post("/api/v1/auth/password-reset")
def request_reset():
    """202 whatever the address; a link by e-mail when it has an account and SMTP is set up."""
    body = json_body(PasswordResetRequest)
    rt = runtime.current()
    email = accounts.normalise_email(body.email)
    within_limit = rt.throttle.reset_requested(email, request.remote_addr or "")
    if within_limit and mailer.configured(rt.settings):
        with rt.sessions() as session:
            user = password_resets.user_for(session, email)
            if user is not None:
                token = password_resets.issue(
                    session, user.id, timedelta(seconds=rt.settings.password_reset_ttl_s)
                )
                audit.record(
                    session,
                    "password.reset_requested",
                    actor_id=user.id,
                    target=user.id,
                    via="email",
                )
                session.commit()
                text = BODY.format(
                    minutes=rt.settings.password_reset_ttl_s // 60,
                    link=password_resets.link(rt.settings.public_url, token),
                )
                mailer.send_later(rt.settings, user.email, SUBJECT, text)
    return ACCEPTED, 202


@blueprint.post("/api/v1/auth/password-reset/confirm")
def confirm_reset():
    """A new password for a live token; every session of the user ends (204)."""
    body = json_body(PasswordResetConfirm)
    rt = runtime.current()
    with rt.sessions() as session:
        user = password_resets.pending(session, body.token)
        rt.password_policy.check(body.new_password, user.email, user.name)
        password_resets.spend(session, rt.passwords, body.token, user, body.new_password)
        sessions.end_all(session, user.id, reason="password reset")
        audit.record(session, "password.reset", actor_id=user.id, target=user.id)
        session.commit()
    return Response(status=204)
