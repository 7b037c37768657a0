"""The MFA API: TOTP enrollment (otpauth URI + SVG QR code), confirmation, removal, new recovery
codes. Turning MFA on or off ends every session of the user; the answer carries a new pair."""

from __future__ import annotations

from flask import Blueprint, g
from sqlalchemy import func, select

from chatlens.auth import audit, mfa, runtime, sessions
from chatlens.auth.bearer import authenticated
from chatlens.auth.errors import InvalidMfaCode, NotFound
from chatlens.auth.http_accounts import second_factor, token_pair
from chatlens.auth.http_models import CodeRequest, MfaDisableRequest
from chatlens.auth.tables import RecoveryCode
from chatlens.shared.web import json_body

blueprint = Blueprint("mfa", __name__)
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@blueprint.get("/api/v1/auth/mfa")
@authenticated()
def status():
    user_id = g.account.user.id
    with runtime.current().sessions() as session:
        left = session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None))
        )
        return {"totp": mfa.enabled(session, user_id), "recovery_codes_left": left}


@blueprint.post("/api/v1/auth/mfa/totp")
@authenticated()
def enroll():
    """A pending TOTP secret: ``{secret, otpauth_uri, qr_svg}``; confirm it with a code."""
    with runtime.current().sessions() as session:
        started = mfa.start(session, runtime.current().secret_box, g.account.user)
        session.commit()
    return started, 201, NO_STORE


@blueprint.post("/api/v1/auth/mfa/totp/confirm")
@authenticated()
def confirm():
    """Turn TOTP on: ``{recovery_codes, access_token, refresh_token, ...}`` (codes shown once)."""
    body = json_body(CodeRequest)
    rt, account = runtime.current(), g.account
    rt.throttle.before_code(account.user.id)
    with rt.sessions() as session:
        codes = mfa.confirm(session, rt.secret_box, account.user.id, body.code)
        if codes is None:
            rt.throttle.code_failed(account.user.id)
            raise InvalidMfaCode("the code is wrong; check the authenticator's clock")
        sessions.end_all(session, account.user.id, reason="MFA turned on")
        audit.record(session, "mfa.enabled", org_id=account.org.id, actor_id=account.user.id)
        pair, status_code, headers = token_pair(session, account, family_id=None)
    return {**pair, "recovery_codes": codes}, status_code, headers


@blueprint.post("/api/v1/auth/mfa/totp/disable")
@authenticated()
def disable():
    """Turn TOTP off with the password and a code; every session ends, a new pair comes back."""
    body = json_body(MfaDisableRequest)
    rt, account = runtime.current(), g.account
    with rt.sessions() as session:
        if not mfa.enabled(session, account.user.id):
            raise NotFound("TOTP is not on")
        rt.throttle.before_code(account.user.id)
        if not rt.passwords.verify(account.user.password_hash, body.password):
            rt.throttle.code_failed(account.user.id)
            audit.record(
                session, "mfa.disable_failed", org_id=account.org.id, actor_id=account.user.id
            )
            session.commit()
            raise InvalidMfaCode("the password or the code is wrong")
        second_factor(session, account.user.id, body.code, required=True)
        mfa.disable(session, account.user.id)
        sessions.end_all(session, account.user.id, reason="MFA turned off")
        audit.record(session, "mfa.disabled", org_id=account.org.id, actor_id=account.user.id)
        return token_pair(session, account, family_id=None)


@blueprint.post("/api/v1/auth/mfa/recovery-codes")
@authenticated()
def new_recovery_codes():
    """New recovery codes (the old ones stop working) for a current TOTP code."""
    body = json_body(CodeRequest)
    rt, user_id = runtime.current(), g.account.user.id
    with rt.sessions() as session:
        if not mfa.enabled(session, user_id):
            raise NotFound("TOTP is not on")
        second_factor(session, user_id, body.code, required=True)
        codes = mfa.new_recovery_codes(session, user_id)
        audit.record(
            session, "mfa.recovery_codes_renewed", org_id=g.account.org.id, actor_id=user_id
        )
        session.commit()
    return {"recovery_codes": codes}, 200, NO_STORE
