"""Clean-up of finished sessions (``python -m chatlens.auth cleanup``): whole refresh-token families
go once expired or revoked long enough ago; a live session, even with spent tokens, stays and
still works; OAuth states past their expiry go; password-reset tokens expired or spent long
enough ago go, a live one stays and still works; batches; a ``keep`` that would let a revoked
session's access tokens back in is refused."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from chatlens.auth import cleanup, password_resets
from chatlens.auth.tables import OAuthState, PasswordReset, RefreshToken

KEEP = timedelta(days=7)
ACCESS_TTL = timedelta(minutes=15)


def _families(runtime) -> dict[str, int]:
    with runtime.sessions() as session:
        rows = session.execute(
            select(RefreshToken.family_id, func.count()).group_by(RefreshToken.family_id)
        ).all()
    return dict(rows)


def _sessions_of(api, email: str, count: int) -> list[dict]:
    api.signed_in(email)
    return [api.login(email).json for _ in range(count - 1)]


def test_expired_and_long_revoked_sessions_go_whole_and_live_ones_stay(api, runtime):
    live = api.signed_in("live@example.com")
    live = api.refresh(live["refresh_token"]).json  # a spent token in a live family
    old_expired, old_revoked, recent_revoked = _sessions_of(api, "old@example.com", 4)[:3]
    families = _families(runtime)
    long_ago = datetime.now(UTC) - KEEP - timedelta(days=1)
    with runtime.sessions.begin() as session:

        def family_of(pair):
            return session.scalar(
                select(RefreshToken.family_id).where(
                    RefreshToken.token_hash == _hash(pair["refresh_token"])
                )
            )

        expired, revoked, recent = (
            family_of(old_expired),
            family_of(old_revoked),
            family_of(recent_revoked),
        )
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == expired)
            .values(expires_at=long_ago)
        )
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == revoked)
            .values(revoked_at=long_ago)
        )
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == recent)
            .values(revoked_at=datetime.now(UTC) - timedelta(hours=1))
        )

    report = cleanup.clean(runtime.sessions, keep=KEEP, access_ttl=ACCESS_TTL, batch=1)

    assert (report.sessions, report.refresh_tokens) == (2, 2)
    remaining = _families(runtime)
    assert expired not in remaining and revoked not in remaining
    assert recent in remaining  # revoked an hour ago: still refusing its access tokens
    assert set(remaining) == set(families) - {expired, revoked}
    assert api.me(live["access_token"]).status_code == 200
    assert api.refresh(live["refresh_token"]).status_code == 200
    assert api.refresh(old_expired["refresh_token"]).status_code == 401
    # Nothing is left to do: a second run removes nothing.
    assert cleanup.clean(runtime.sessions, keep=KEEP, access_ttl=ACCESS_TTL).sessions == 0


def test_expired_oauth_states_go(runtime):
    now = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        for name, expires in (("old", now - KEEP - timedelta(minutes=1)), ("new", now)):
            session.add(
                OAuthState(
                    state_hash=name * 8, provider="github", code_verifier="v", expires_at=expires
                )
            )
    assert cleanup.clean(runtime.sessions, keep=KEEP, access_ttl=ACCESS_TTL).oauth_states == 1
    with runtime.sessions() as session:
        assert session.scalars(select(OAuthState.state_hash)).all() == ["new" * 8]


def test_reset_tokens_expired_or_spent_long_ago_go_and_a_live_one_still_works(api, runtime):
    user_id = api.me(api.signed_in("reset@example.com")["access_token"]).json["id"]
    now = datetime.now(UTC)
    long_ago, lately = now - KEEP - timedelta(days=1), now - timedelta(hours=1)
    tokens = {}
    with runtime.sessions.begin() as session:
        for name in ("expired", "spent", "superseded", "expired_lately", "spent_lately", "live"):
            tokens[name] = password_resets.issue(session, user_id, timedelta(minutes=30))
            session.flush()
    # issue() voids the older tokens (used_at): set every row's fate by hand.
    fates = {
        "expired": {"expires_at": long_ago, "used_at": None},
        "spent": {"used_at": long_ago},
        "superseded": {"used_at": long_ago - timedelta(days=3)},
        "expired_lately": {"expires_at": lately, "used_at": None},
        "spent_lately": {"used_at": lately},
        "live": {"expires_at": now + timedelta(minutes=30), "used_at": None},
    }
    with runtime.sessions.begin() as session:
        for name, values in fates.items():
            session.execute(
                update(PasswordReset)
                .where(PasswordReset.token_hash == _hash(tokens[name]))
                .values(**values)
            )

    report = cleanup.clean(runtime.sessions, keep=KEEP, access_ttl=ACCESS_TTL, batch=2)

    assert report.password_resets == 3
    with runtime.sessions() as session:
        left = set(session.scalars(select(PasswordReset.token_hash)))
    assert left == {_hash(tokens[n]) for n in ("expired_lately", "spent_lately", "live")}
    confirmed = api.client.post(
        "/api/v1/auth/password-reset/confirm",
        json={"token": tokens["live"], "new_password": "a fresh, long passphrase 4 reset"},
    )
    assert confirmed.status_code == 204, confirmed.json
    again = cleanup.clean(runtime.sessions, keep=KEEP, access_ttl=ACCESS_TTL)
    assert again.password_resets == 0  # the one just spent is kept for ``keep``


def test_a_keep_shorter_than_an_access_tokens_life_is_refused(runtime):
    with pytest.raises(ValueError, match="access token"):
        cleanup.clean(runtime.sessions, keep=timedelta(minutes=5), access_ttl=ACCESS_TTL)


def test_the_command_prints_what_it_removed(database_url, tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path), "DATABASE_URL": database_url}
    run = [sys.executable, "-m", "chatlens.auth"]
    migrated = subprocess.run(
        [*run, "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    done = subprocess.run(
        [*run, "cleanup", "--keep-days", "3"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "sessions": 0,
        "refresh_tokens": 0,
        "oauth_states": 0,
        "password_resets": 0,
    }
    refused = subprocess.run(
        [*run, "cleanup", "--keep-days", "0.001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode != 0 and "access token" in refused.stderr


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
