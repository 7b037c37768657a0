"""The web app in Debian's Chromium against the real stack behind nginx: the Playwright script in
services/web/e2e drives every surface (sign-in, collections, uploads with live progress, search,
messages in context, streamed answers and citations, dashboards, versions, webhooks, an export of
XSS payloads, sign out), screenshots every page into var/web-e2e and fails on any serious or
critical axe finding."""

import os
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT, WEB, environment

pytestmark = pytest.mark.e2e

ARTEFACTS = ROOT / "var/web-e2e"
# Every classic payload in a WhatsApp export; none may run, all must show as text.
XSS_EXPORT = """\
14/03/2025, 09:00 - Mallory: <script>window.__xss = "script"</script> hello team
14/03/2025, 09:01 - Mallory: <img src=x onerror="window.__xss = 'onerror'"> look at this
14/03/2025, 09:02 - Mallory: <a href="javascript:window.__xss='link'">click me</a> javascript
14/03/2025, 09:03 - Mallory: <svg onload="window.__xss='svg'"><script>alert(1)</script></svg>
14/03/2025, 09:04 - Bob: <iframe src="javascript:alert(2)"></iframe> onerror test
"""


# The webhooks page adds a webhook to a closed port on loopback (its deliveries fail and are
# retried): this module's gateway allows private addresses and plain http, as test_webhooks does.
WEBHOOK_ENV = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_ALLOW_HTTP": "true"}


@pytest.fixture(scope="module", autouse=True)
def webhook_env():
    with environment(WEBHOOK_ENV):
        yield


def test_every_page_of_the_web_app_in_a_real_browser(stack, web_build, tmp_path):
    node, chromium = web_build
    xss = tmp_path / "xss-chat.txt"
    xss.write_text(XSS_EXPORT)
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    env = {
        **os.environ,
        "BASE_URL": stack.config.nginx_url,
        "OUT": str(ARTEFACTS),
        "SAMPLE": str(ROOT / "samples/whatsapp-demo.txt"),
        "XSS": str(xss),
        "CHROMIUM": chromium,
        "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
    }
    result = subprocess.run(
        [node, "e2e/app.e2e.mjs"], cwd=WEB, env=env, capture_output=True, text=True, timeout=1200
    )
    print(result.stdout, file=sys.stderr)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    shots = sorted(p.name for p in ARTEFACTS.glob("*.png"))
    assert len(shots) >= 15, shots
