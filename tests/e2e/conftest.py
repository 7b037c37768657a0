import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig, nginx_binary
from chatlens.shared.testing import require_server, throwaway_vhost, unavailable, worker_ports

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "services/web"
# Several checkouts (or people) can run the e2e tests on one machine at once on other ports; each
# pytest-xdist worker of one run has its own block of 1000 ports above this one.
BASE_PORT = worker_ports(int(os.environ.get("CHATLENS_E2E_PORT", "18100")))


@pytest.fixture(scope="module", autouse=True)
def generous_rate_limits():
    """The stacks' services inherit this environment: the suites send one user's requests far
    faster than the product's rate limits allow (those are tested in services/gateway/tests).
    Set for each end-to-end module only, not when this file is collected nor for the session: a
    variable set at import, or left set for the session, reached the gateway tests run later in
    the same process (their limits 50 times higher; under pytest-xdist a worker runs end-to-end
    modules before others)."""
    previous = os.environ.get("RATE_LIMIT_SCALE")
    os.environ.setdefault("RATE_LIMIT_SCALE", "50")
    yield
    if previous is None:
        os.environ.pop("RATE_LIMIT_SCALE", None)


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in this process's environment, which a stack started meanwhile inherits (from a
    module's autouse fixture: those come before its stack); what was there before is put back."""
    previous = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@pytest.fixture(scope="module")
def web_build():
    """Node and Debian's Chromium for the web app's Playwright scripts, and the app's build."""
    node = shutil.which("node")
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    if not node or not (WEB / "node_modules/playwright-core").is_dir():
        unavailable("node and services/web/node_modules are needed (make setup runs npm ci)")
    if not os.access(chromium, os.X_OK):
        unavailable("Debian's chromium is not installed (make test installs it)")
    if not (WEB / "dist/index.html").exists():  # make test builds it first; a lone run may not
        subprocess.run(["npm", "run", "build"], cwd=WEB, check=True, timeout=600)
    return node, chromium


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The whole stack as processes, behind nginx, on its own ports, data folder and vhost."""
    require_server("127.0.0.1", 5672, "RabbitMQ")
    if nginx_binary() is None:
        unavailable("nginx is not installed (make test installs it on Debian)")
    with throwaway_vhost("e2e") as amqp_url:
        config = StackConfig(
            root=ROOT,
            state=tmp_path_factory.mktemp("stack"),
            amqp_url=amqp_url,
            base_port=BASE_PORT,
            nginx_port=BASE_PORT - 20,
        )
        stack = Stack(config)
        try:
            stack.up(wait_s=600)
            yield stack
        finally:
            stack.down()
            for name in (*config.services, "nginx"):
                print(f"==> {name} log <==\n{stack.tail(name, 15)}", file=sys.stderr)


@pytest.fixture(scope="module")
def user(stack):
    client = Client(stack.config.nginx_url)
    client.register("e2e@example.com", "correct horse battery staple", "E2E")
    client.login("e2e@example.com", "correct horse battery staple")
    return client
