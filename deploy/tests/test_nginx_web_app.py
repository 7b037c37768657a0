"""The dev nginx serving the web app's build: client-side routes fall back to index.html, the
hashed assets are cached for good, every page carries the security headers (a CSP without inline
scripts, no framing, no sniffing, no referrer), and /api still reaches the gateway."""

from __future__ import annotations

import functools
import shutil
import tempfile
from pathlib import Path

import pytest

from chatlens.cli.stack import sentry_connect_src

from .test_nginx_proxy import gateway, get, running_nginx  # noqa: F401 - gateway is a fixture

INDEX = (
    b"<!doctype html><title>Chatlens</title><script type=module src=/assets/app-1a2b.js></script>"
)


@pytest.fixture(scope="module")
def web_root():
    # Readable by nginx's unprivileged workers, unlike pytest's private tmp_path.
    folder = Path(tempfile.mkdtemp(prefix="chatlens-web-"))
    folder.chmod(0o755)
    (folder / "assets").mkdir(mode=0o755)
    (folder / "index.html").write_bytes(INDEX)
    (folder / "assets/app-1a2b.js").write_text("console.log('app');\n")
    for path in folder.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def site(nginx, render, gateway, web_root):  # noqa: F811 - the imported fixture
    with running_nginx(
        nginx, functools.partial(render, web_root=web_root), f"127.0.0.1:{gateway.port}"
    ) as (port, _):
        yield port


def test_the_app_and_its_client_side_routes_are_served_with_security_headers(site):
    for path in ("/", "/collections/abc/search", "/login?next=%2F"):
        status, headers, body = get(site, path)
        assert status == 200 and body == INDEX, path
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-cache"
        csp = dict(
            part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";")
        )
        assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no CDN
        assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
        assert csp["connect-src"] == "'self'"  # no Sentry configured: no other origin
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "no-referrer"
        assert headers["X-Frame-Options"] == "DENY"


def test_the_configured_sentry_host_is_the_one_other_origin_the_app_may_connect_to(
    nginx,
    render,
    gateway,  # noqa: F811 - the imported fixture
    web_root,
):
    dsn = "https://0123abcd@o42.ingest.sentry.io:8443/7"
    with running_nginx(
        nginx,
        functools.partial(render, web_root=web_root, sentry_dsn=dsn),
        f"127.0.0.1:{gateway.port}",
    ) as (port, _):
        _, headers, _ = get(port, "/")
    csp = dict(part.strip().split(" ", 1) for part in headers["Content-Security-Policy"].split(";"))
    assert csp["connect-src"] == "'self' https://o42.ingest.sentry.io:8443"
    assert "0123abcd" not in headers["Content-Security-Policy"]  # the key stays out


@pytest.mark.parametrize(
    "dsn",
    [
        "javascript:alert(1)",
        "https://x.io; script-src *",
        "https://o1.ingest.sentry.io/1' unsafe",
        "ftp://files.example",
    ],
)
def test_a_sentry_dsn_that_is_not_a_plain_http_url_is_refused(dsn):
    with pytest.raises(ValueError):
        sentry_connect_src(dsn)


def test_hashed_assets_are_javascript_and_cached_for_good(site):
    status, headers, body = get(site, "/assets/app-1a2b.js")
    assert status == 200 and body == b"console.log('app');\n"
    assert headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in headers["Cache-Control"]


def test_api_paths_still_reach_the_gateway_and_metrics_do_not(site):
    status, _, body = get(site, "/api/v1/collections")
    assert status == 200 and b'"path": "/api/v1/collections"' in body
    status, _, body = get(site, "/metrics")  # the app's page, never the gateway's metrics
    assert status == 200 and body == INDEX
