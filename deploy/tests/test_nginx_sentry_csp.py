"""The web app's Sentry in production's Content-Security-Policy: compose's nginx writes the origin
of VITE_SENTRY_DSN (the DSN the web app was built with) into prod.conf's include at start, with
deploy/nginx/sentry-connect-src.sh, and prod.conf adds it to ``connect-src``; without a DSN the
page connects to its own origin only. (The chart and the overlays: deploy/tests/kubernetes.)"""

from __future__ import annotations

import os
import subprocess

import pytest

from chatlens.cli.stack import sentry_connect_src

SCRIPT = "deploy/nginx/sentry-connect-src.sh"
MOUNTED = "/docker-entrypoint.d/40-chatlens-sentry-connect-src.sh"
GOOD_DSNS = [
    "https://0123abcd@o42.ingest.sentry.io:8443/7",
    "https://key@O1.Ingest.Sentry.io/12",
    "http://glitchtip.internal.example/3",
]
# The local stack's refusals (test_nginx_web_app.py), and two more.
BAD_DSNS = [
    "javascript:alert(1)",
    "https://x.io; script-src *",
    "https://o1.ingest.sentry.io/1' unsafe",
    "ftp://files.example",
    'https://o1.ingest.sentry.io/1" always; add_header X 1',
    "https://a.example/1\nhttps://b.example/2",
]


def run_script(files, folder, dsn: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "CHATLENS_NGINX_INCLUDE_DIR": str(folder)}
    return subprocess.run(
        ["sh", str(files.root / SCRIPT)],
        env={**env, "VITE_SENTRY_DSN": dsn},
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_both_compose_nginx_run_the_script_with_the_dsn_the_web_app_was_built_with(compose, files):
    nginx = compose.config["services"]["nginx"]
    assert f"./{SCRIPT}:{MOUNTED}:ro" in nginx["volumes"]
    assert nginx["environment"]["VITE_SENTRY_DSN"] == "${VITE_SENTRY_DSN:-}"
    # The image's entrypoint runs only the executable scripts of /docker-entrypoint.d.
    assert os.access(files.root / SCRIPT, os.X_OK)


@pytest.mark.parametrize("dsn", GOOD_DSNS)
def test_the_script_writes_the_dsns_origin_as_the_local_stack_computes_it(files, tmp_path, dsn):
    result = run_script(files, tmp_path, dsn)
    assert result.returncode == 0, result.stderr
    expected = sentry_connect_src(dsn)
    assert (tmp_path / "sentry.conf").read_text() == f'set $sentry_connect_src "{expected}";\n'


@pytest.mark.parametrize("dsn", BAD_DSNS)
def test_the_script_refuses_what_the_local_stack_refuses_and_writes_nothing(files, tmp_path, dsn):
    with pytest.raises(ValueError):
        sentry_connect_src(dsn)
    result = run_script(files, tmp_path, dsn)
    assert result.returncode != 0 and "VITE_SENTRY_DSN is not an http(s) URL" in result.stderr
    assert not (tmp_path / "sentry.conf").exists()


def test_without_a_dsn_the_script_leaves_no_origin_behind(files, tmp_path):
    assert run_script(files, tmp_path, GOOD_DSNS[0]).returncode == 0
    result = run_script(files, tmp_path, "")  # the DSN taken away, nginx restarted
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_prod_conf_lets_the_page_connect_to_its_own_origin_only_by_default(files, csp_connect_src):
    assert csp_connect_src(files.nginx_prod.read_text()) == "'self'"


def test_prod_conf_adds_the_origin_the_script_wrote_and_never_the_key(
    files, csp_connect_src, tmp_path
):
    assert run_script(files, tmp_path, GOOD_DSNS[0]).returncode == 0
    served = csp_connect_src(files.nginx_prod.read_text(), (tmp_path / "sentry.conf").read_text())
    assert served == "'self' https://o42.ingest.sentry.io:8443"
