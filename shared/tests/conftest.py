import pytest

from chatlens.shared.bus import Bus, RetryPolicy
from chatlens.shared.testing import throwaway_vhost


@pytest.fixture
def amqp_url():
    with throwaway_vhost("shared") as url:
        yield url


@pytest.fixture
def bus(amqp_url):
    bus = Bus(amqp_url, "test", retry=RetryPolicy(attempts=3, initial_s=0.05, max_s=0.2))
    bus.declare()
    yield bus
    bus.close()
