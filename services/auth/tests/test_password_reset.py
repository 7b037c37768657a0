"""Password reset: the request is always 202 (no account enumeration) and rate-limited; the link
goes out by e-mail through a real SMTP server on loopback (aiosmtpd); its token is single-use,
short-lived and stored hashed; confirming sets the password, ends every session and is audited.
Without SMTP, the admin CLI prints the link."""

from __future__ import annotations

import re
import socket
import time
from email import message_from_bytes, policy
from urllib.parse import urlparse

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from chatlens.auth.refresh import token_hash
from chatlens.auth.tables import AuditEvent, PasswordReset

from .conftest import PASSWORD, AuthApi

NEW_PASSWORD = "a brand new and long passphrase 4"
PUBLIC_URL = "https://chatlens.example"


class Inbox:
    """aiosmtpd's handler: every message the server accepted."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(message_from_bytes(envelope.original_content, policy=policy.default))
        return "250 OK"

    def wait(self, count: int, seconds: float = 10):
        deadline = time.monotonic() + seconds
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} messages, not {count}"
            time.sleep(0.05)
        return self.messages


@pytest.fixture(scope="module")
def smtp():
    inbox = Inbox()
    with socket.socket() as probe:  # aiosmtpd's Controller needs a port it can connect to
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture
def mail_app(make_app, smtp):
    inbox, port = smtp
    inbox.messages.clear()
    return make_app(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        smtp_from="Chatlens <auth@chatlens.example>",
        public_url=PUBLIC_URL,
    )


def ask(client, email, address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/password-reset", json={"email": email}, environ_base={"REMOTE_ADDR": address}
    )


def token_in(message) -> str:
    link = re.search(r"https://\S+", message.get_content()).group(0)
    assert link.startswith(f"{PUBLIC_URL}/reset-password#token=")
    return urlparse(link).fragment.removeprefix("token=")


def confirm(client, token, password=NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/password-reset/confirm", json={"token": token, "new_password": password}
    )


def test_a_reset_by_e_mail_sets_the_password_ends_every_session_and_is_audited(mail_app, smtp):
    inbox, _ = smtp
    api = AuthApi(mail_app.test_client())
    pair = api.signed_in("ada@example.com")
    answer = ask(api.client, "ADA@example.com")
    assert answer.status_code == 202 and "If an account has this address" in answer.json["message"]
    [message] = inbox.wait(1)
    assert message["To"] == "ada@example.com"
    assert message["From"] == "Chatlens <auth@chatlens.example>"
    token = token_in(message)

    assert confirm(api.client, token).status_code == 204
    assert api.refresh(pair["refresh_token"]).status_code == 401  # every family revoked
    assert api.me(pair["access_token"]).status_code == 401
    assert api.login("ada@example.com", PASSWORD).status_code == 401
    assert api.login("ada@example.com", NEW_PASSWORD).status_code == 200
    again = confirm(api.client, token, NEW_PASSWORD + "x")  # single use
    assert again.status_code == 400 and again.json["error"]["code"] == "invalid_reset_token"

    runtime = mail_app.extensions["chatlens.auth"]
    with runtime.sessions() as session:
        events = session.scalars(select(AuditEvent.event)).all()
        stored = session.scalars(select(PasswordReset.token_hash)).all()
    assert {"password.reset_requested", "password.reset"} <= set(events)
    assert stored == [token_hash(token)] and token not in stored  # only the hash at rest


def test_an_unknown_address_gets_the_same_answer_and_no_mail(mail_app, smtp):
    inbox, _ = smtp
    api = AuthApi(mail_app.test_client())
    api.signed_in("known@example.com")
    unknown, known = ask(api.client, "nobody@example.com"), ask(api.client, "known@example.com")
    assert (unknown.status_code, unknown.json) == (known.status_code, known.json)
    [message] = inbox.wait(1)
    time.sleep(0.3)
    assert len(inbox.messages) == 1 and message["To"] == "known@example.com"


def test_an_expired_or_superseded_link_does_not_work_and_a_weak_password_spends_nothing(
    mail_app, smtp
):
    inbox, _ = smtp
    api = AuthApi(mail_app.test_client())
    api.signed_in("ben@example.com")
    ask(api.client, "ben@example.com")
    first = token_in(inbox.wait(1)[0])
    ask(api.client, "ben@example.com")
    second = token_in(inbox.wait(2)[1])
    assert confirm(api.client, first).json["error"]["code"] == "invalid_reset_token"
    weak = confirm(api.client, second, "password1234")
    assert weak.status_code == 422
    runtime = mail_app.extensions["chatlens.auth"]
    with runtime.sessions() as session:
        session.execute(update(PasswordReset).values(expires_at=PasswordReset.created_at))
        session.commit()
    assert confirm(api.client, second).json["error"]["code"] == "invalid_reset_token"
    assert confirm(api.client, "pr_forged").status_code == 400


def test_requests_are_rate_limited_per_address_and_quietly_per_account(make_app, smtp):
    inbox, port = smtp
    inbox.messages.clear()
    app = make_app(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security="none",
        reset_limit_per_address="3 per hour",
        reset_limit_per_account="2 per hour",
    )
    api = AuthApi(app.test_client())
    api.signed_in("cy@example.com")
    answers = [ask(api.client, "cy@example.com", "10.0.0.9").status_code for _ in range(3)]
    assert answers == [202] * 3
    limited = ask(api.client, "someone@example.com", "10.0.0.9")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    inbox.wait(2)
    time.sleep(0.3)
    assert len(inbox.messages) == 2  # the account's third request was answered, and sent nothing


def test_without_smtp_nothing_is_sent_and_the_admin_cli_prints_a_link(make_app):
    app = make_app(public_url=PUBLIC_URL)  # no SMTP_HOST
    api = AuthApi(app.test_client())
    pair = api.signed_in("dee@example.com")
    assert ask(api.client, "dee@example.com").status_code == 202
    with app.extensions["chatlens.auth"].sessions() as session:
        assert session.scalars(select(PasswordReset)).all() == []
    result = app.test_cli_runner().invoke(args=["admin", "reset-link", "dee@example.com"])
    assert result.exit_code == 0, result.output
    link = result.output.strip()
    assert link.startswith(f"{PUBLIC_URL}/reset-password#token=pr_")
    assert confirm(api.client, urlparse(link).fragment.removeprefix("token=")).status_code == 204
    assert api.refresh(pair["refresh_token"]).status_code == 401


@pytest.mark.parametrize("body", [{}, {"email": "not an address"}, {"email": "a@b.c", "x": 1}])
def test_bad_requests_are_clean_4xx(client, body):
    assert client.post("/api/v1/auth/password-reset", json=body).status_code in (400, 422)
    assert client.post("/api/v1/auth/password-reset/confirm", json=body).status_code in (400, 422)
