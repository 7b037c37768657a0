"""The web app's account, sign-in and model-admin surfaces in Debian's Chromium (the Playwright
script services/web/e2e/account.e2e.mjs) against a stack of its own: auth with SMTP (a real
aiosmtpd server here, whose messages the script reads from a folder), a local OAuth provider
(chatlens.shared.oauth_test_provider) for GitHub and Google, and a platform administrator; the
gateway and the inference service (for the model pages) behind nginx. Screenshots go to
var/web-e2e-account and any serious or critical axe finding fails the test."""

import os
import shutil
import socket
import subprocess
import sys
import uuid
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from chatlens.cli.stack import Stack, StackConfig, nginx_binary
from chatlens.shared import openai_test_server
from chatlens.shared.oauth_test_provider import serve
from chatlens.shared.testing import require_server, throwaway_vhost, unavailable

from .conftest import BASE_PORT, WEB

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "var/web-e2e-account"
ADMIN = f"admin-{uuid.uuid4().hex[:8]}@example.com"
OAUTH_EMAIL = f"octocat-{uuid.uuid4().hex[:8]}@example.com"
PROVIDER_KEY = f"sk-e2e-{uuid.uuid4().hex}"  # must never appear in the page


class Maildir:
    """aiosmtpd's handler: each message as 'To: <address>' and its text, one file each."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.count = folder, 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.count += 1
        path = self.folder / f"{self.count:04d}.txt"
        path.write_text(f"To: {message['To']}\n\n{message.get_content()}")
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def account_stack(tmp_path_factory):
    require_server("127.0.0.1", 5672, "RabbitMQ")
    if nginx_binary() is None:
        unavailable("nginx is not installed (make test installs it on Debian)")
    maildir = tmp_path_factory.mktemp("mail")
    smtp = Controller(Maildir(maildir), hostname="127.0.0.1", port=free_port())
    smtp.start()
    base, nginx_port = BASE_PORT + 500, BASE_PORT + 480
    site = f"http://127.0.0.1:{nginx_port}"
    try:
        with (
            serve(site) as provider,
            openai_test_server.serve(PROVIDER_KEY) as openai_url,
            throwaway_vhost("e2e-account") as amqp_url,
        ):
            provider.user = {"sub": "gh-octocat", "email": OAUTH_EMAIL, "email_verified": True}
            # GitHub and Google, both this provider: one signs a new account in, the other is linked
            # to the administrator's (a provider account is one identity per provider).
            oauth = {
                key.upper(): value for key, value in provider.settings(["github", "google"]).items()
            }
            config = StackConfig(
                root=ROOT,
                state=tmp_path_factory.mktemp("account-stack"),
                amqp_url=amqp_url,
                base_port=base,
                nginx_port=nginx_port,
                services=("auth", "inference", "gateway"),
                # The org endpoint is the test's OpenAI-compatible server, on loopback.
                extra_env={
                    "READY_REQUIRES_SERVICES": "false",
                    "PUBLIC_URL": site,
                    "ENDPOINT_ALLOW_PRIVATE": "true",
                    "SMTP_HOST": "127.0.0.1",
                    "SMTP_PORT": str(smtp.port),
                    "SMTP_SECURITY": "none",
                    "PLATFORM_ADMIN_EMAILS": ADMIN,
                    **oauth,
                },
            )
            stack = Stack(config)
            try:
                stack.up(wait_s=600)
                yield stack, maildir, openai_url
            finally:
                stack.down()
                for name in (*config.services, "nginx"):
                    print(f"==> {name} log <==\n{stack.tail(name, 15)}", file=sys.stderr)
    finally:
        smtp.stop()


def test_sign_in_reset_sessions_mfa_and_models_in_a_real_browser(account_stack, web_build):
    stack, maildir, openai_url = account_stack
    node, chromium = web_build
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    env = {
        **os.environ,
        "BASE_URL": stack.config.nginx_url,
        "OUT": str(ARTEFACTS),
        "MAILDIR": str(maildir),
        "ADMIN_EMAIL": ADMIN,
        "OAUTH_EMAIL": OAUTH_EMAIL,
        "PROVIDER_URL": openai_url,
        "PROVIDER_KEY": PROVIDER_KEY,
        "CHROMIUM": chromium,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    result = subprocess.run(
        [node, "e2e/account.e2e.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=900
    )
    print(result.stdout, file=sys.stderr)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    shots = sorted(p.name for p in ARTEFACTS.glob("*.png"))
    assert len(shots) >= 7, shots
