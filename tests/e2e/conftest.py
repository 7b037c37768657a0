import os
import sys
from pathlib import Path

import pytest

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig, nginx_binary
from chatlens.shared.testing import require_server, throwaway_vhost, unavailable, worker_ports

ROOT = Path(__file__).resolve().parents[2]
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
