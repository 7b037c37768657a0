"""Fixtures of the inference tests: the real SmolLM2 model on a real in-process Dask cluster,
loaded once per session, and a throw-away RabbitMQ vhost per test (skipped when RabbitMQ is
unreachable, failed when CI is set)."""

from __future__ import annotations

import pytest

from chatlens.inference.cluster import LlmCluster
from chatlens.inference.registry import ModelSpec, Registry
from chatlens.shared import compute
from chatlens.shared.bus import Bus
from chatlens.shared.testing import slow_model, throwaway_vhost


@pytest.fixture(scope="session")
def registry() -> Registry:
    return Registry.load()


@pytest.fixture(scope="session")
def smollm(registry) -> ModelSpec:
    slow_model("SmolLM2")  # every test that generates asks for it
    return registry.llm()


@pytest.fixture(scope="session")
def llm_cluster(smollm):
    """A LocalCluster with one llm worker that has loaded SmolLM2 (the slow part: once)."""
    client = compute.connect(None, name="inference-tests", resources={"llm": 1})
    cluster = LlmCluster(client, timeout_s=120)
    try:
        # Lowered as the service lowers it: test_generation checks the decode loop's priority.
        cluster.start([smollm], niceness=5)
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
def amqp_url():
    """The URL of a fresh RabbitMQ vhost, deleted after the test."""
    with throwaway_vhost("chatlens-inference-test") as url:
        yield url


@pytest.fixture
def bus(amqp_url):
    """A bus on the test's vhost, its topology declared."""
    bus = Bus(amqp_url, "inference-tests")
    bus.declare()
    yield bus
    bus.rpc().close()
    bus.close()
