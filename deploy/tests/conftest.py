"""Fixtures for the deployment tests: the repository's files, and the real tools that check them.

A test that needs a tool (docker-compose, nginx) skips when the tool is missing, except in CI
(``CI`` set), where a missing tool is a failure: CI must not pass by checking nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import string
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from chatlens.shared.testing import unavailable

from .nginx_server import free_port, get, nginx_serving, served_folder

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = {
    "dev": ROOT / "docker-compose.dev.yml",
    "prod": ROOT / "docker-compose.prod.yml",
}
# The prod file refuses to render without these (``${VAR:?...}``); dev has defaults.
PROD_SECRETS = {
    "MARIADB_PASSWORD": "test-db-password",
    "MARIADB_ROOT_PASSWORD": "test-root-password",
    "RABBITMQ_PASSWORD": "test-mq-password",
    "INTERNAL_TOKEN": "test-internal-token",
    "PUBLIC_URL": "https://chatlens.example",
}
NGINX_TEMPLATE = ROOT / "deploy/nginx/chatlens.conf.template"
NGINX_PROD = ROOT / "deploy/nginx/prod.conf"


@pytest.fixture(scope="session")
def files() -> SimpleNamespace:
    """Where the deployment files are (test modules cannot import this conftest)."""
    return SimpleNamespace(
        root=ROOT,
        compose=COMPOSE_FILES,
        prod_secrets=PROD_SECRETS,
        nginx_template=NGINX_TEMPLATE,
        nginx_prod=NGINX_PROD,
    )


@pytest.fixture(scope="session")
def require_tool() -> Callable[..., str]:
    """``require_tool(name, *fallback_paths)``: the tool's path, or skip (fail in CI)."""

    def find(name: str, *fallbacks: str) -> str:
        found = shutil.which(name) or next((p for p in fallbacks if os.access(p, os.X_OK)), None)
        if found:
            return found
        unavailable(f"{name} is not installed")

    return find


@pytest.fixture(scope="session")
def nginx(require_tool) -> str:
    return require_tool("nginx", "/usr/sbin/nginx", "/usr/local/sbin/nginx")


@pytest.fixture(scope="session")
def compose_env() -> Callable[[str], dict[str, str]]:
    """The environment ``docker-compose`` runs in for a file: ours, with only what it needs set."""

    def env(which: str) -> dict[str, str]:
        result = {
            k: v
            for k, v in os.environ.items()
            if k not in PROD_SECRETS and not k.startswith("COMPOSE_")
        }
        if which == "prod":
            result.update(PROD_SECRETS)
        return result

    return env


@pytest.fixture(scope="session", params=sorted(COMPOSE_FILES))
def compose(request) -> SimpleNamespace:
    """Each compose file: ``name``, ``path`` and ``config`` (parsed; anchors and merge keys
    resolved by the same YAML library docker-compose uses)."""
    path = COMPOSE_FILES[request.param]
    return SimpleNamespace(name=request.param, path=path, config=yaml.safe_load(path.read_text()))


def render_template(
    prefix: Path,
    listen: str = "127.0.0.1:18080",
    gateway: str = "127.0.0.1:18100",
    max_body: str = "200m",
    web_root: Path | None = None,
    sentry_dsn: str = "",
) -> str:
    """The dev nginx.conf, rendered the way the dev script renders it (strict substitution);
    the web app's root is an empty folder under ``prefix`` unless given."""
    from chatlens.cli.stack import sentry_connect_src

    return string.Template(NGINX_TEMPLATE.read_text()).substitute(
        LISTEN=listen,
        GATEWAY=gateway,
        PREFIX=str(prefix),
        MAX_BODY=max_body,
        WEB_ROOT=str(web_root or prefix / "web"),
        SENTRY_CONNECT_SRC=sentry_connect_src(sentry_dsn),
    )


@pytest.fixture(scope="session")
def render() -> Callable[..., str]:
    return render_template


@pytest.fixture(scope="session")
def csp_connect_src(nginx) -> Callable[..., str]:
    """``csp_connect_src(nginx_conf, sentry_conf=None)``: the ``connect-src`` of the web app's
    Content-Security-Policy as a real nginx serves it from this nginx.conf (prod.conf or the
    chart's), with ``sentry_conf`` as the one file of its /etc/nginx/chatlens.d (none if None).
    The file's addresses are moved into a folder of the test's own: a free port, the gateway on
    loopback (nothing there; the page needs none), a web root holding an index.html."""

    def served(conf: str, sentry_conf: str | None = None) -> str:
        folder, port = served_folder("chatlens-csp-"), free_port()
        (folder / "web").mkdir(mode=0o755)
        (folder / "web/index.html").write_text("<!doctype html><title>Chatlens</title>")
        (folder / "web/index.html").chmod(0o644)
        (folder / "chatlens.d").mkdir(mode=0o755)
        if sentry_conf is not None:
            (folder / "chatlens.d/sentry.conf").write_text(sentry_conf)
        assert conf.count("include /etc/nginx/chatlens.d/*.conf;") == 1
        text = (
            conf.replace("/tmp/", f"{folder}/")  # first: the folder itself is under /tmp
            .replace("include /etc/nginx/chatlens.d/", f"include {folder}/chatlens.d/")
            .replace("root /srv/web;", f"root {folder}/web;")
        )
        text = re.sub(r"(?m)^(\s*)listen \d+;", rf"\1listen 127.0.0.1:{port};", text)
        text = re.sub(r"(?m)^(\s*)server \S+:8100;", r"\1server 127.0.0.1:9;", text)
        if "\npid " not in text:  # prod.conf: the image's compiled-in paths, here in the folder
            temp = "".join(
                f"{name}_temp_path {folder}/{name}_temp;\n"
                for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            text = f"pid {folder}/nginx.pid;\n" + text.replace("http {", "http {\n" + temp, 1)
        (folder / "nginx.conf").write_text(text)
        with nginx_serving(nginx, folder, port, "/"):
            policy = get(port, "/")[1]["Content-Security-Policy"]
        parts = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        return parts["connect-src"]

    return served
