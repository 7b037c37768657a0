"""Fixtures for the deployment tests: the repository's files, and the real tools that check them.

A test that needs a tool (docker-compose, nginx) skips when the tool is missing, except in CI
(``CI`` set), where a missing tool is a failure: CI must not pass by checking nothing.
"""

from __future__ import annotations

import os
import shutil
import string
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from chatlens.shared.testing import unavailable

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
