"""Two index replicas in the local stack: each collection's ingest and searches go to the
replica owning it, a search over both collections spans them, and a restarted replica answers
from what it reloads from disk."""

import pytest

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig
from chatlens.shared import topology
from chatlens.shared.testing import require_server, throwaway_vhost

from .conftest import BASE_PORT, ROOT
from .test_upload_to_search import PLANTED, SAMPLE, wait_job

pytestmark = pytest.mark.e2e

QUERY = "when is the team trip to Portugal?"


@pytest.fixture(scope="module")
def replicated_stack(tmp_path_factory):
    require_server("127.0.0.1", 5672, "RabbitMQ")
    with throwaway_vhost("e2e-replicas") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT,
                state=tmp_path_factory.mktemp("replica-stack"),
                amqp_url=amqp_url,
                base_port=BASE_PORT + 400,
                nginx=False,
                services=("auth", "index", "embedding-worker", "gateway"),
                index_replicas=2,
                # No inference service here: the gateway's readiness must
                # not wait for one (READY_REQUIRES_SERVICES).
                extra_env={"READY_REQUIRES_SERVICES": "false"},
            )
        )
        try:
            stack.up(wait_s=600)
            yield stack
        finally:
            stack.down()


def test_ingest_and_search_against_two_index_replicas(replicated_stack):
    stack = replicated_stack
    client = Client(stack.config.gateway_url)
    client.register("replicas@example.com", "correct horse battery staple")
    client.login("replicas@example.com", "correct horse battery staple")
    # Collection ids are the gateway's: make some until both replicas own one.
    owned: dict[int, str] = {}
    while len(owned) < 2:
        collection_id = client.create_collection(f"c{len(owned)}")["id"]
        owned.setdefault(topology.index_replica(collection_id, 2), collection_id)
    jobs = [client.upload(owned[replica], [SAMPLE])[0] for replica in (0, 1)]
    for job in jobs:
        done = wait_job(client, job["id"])
        assert done["status"] == "succeeded" and done["version"] == 1, done

    names = ("index", "index-1")
    for replica in (0, 1):
        top = client.search(owned[replica], QUERY)["results"][0]
        assert PLANTED in top["text"] and top["collection_id"] == owned[replica]
        # The owner sealed the job; the other replica never saw it.
        assert jobs[replica]["id"] in stack.tail(names[replica], 10_000)
        assert jobs[replica]["id"] not in stack.tail(names[1 - replica], 10_000)
    across = client._request(
        "POST", "/api/v1/search", json={"collections": [owned[0], owned[1]], "query": QUERY, "k": 4}
    ).json()
    assert {r["collection_id"] for r in across["results"][:2]} == {owned[0], owned[1]}
    assert all(PLANTED in r["text"] for r in across["results"][:2])
    assert across["collections"] == {owned[0]: 1, owned[1]: 1}

    # Replica 1 restarts: it reloads its collection from disk and answers as before.
    stack.kill("index-1")
    stack.start("index-1")
    stack.wait_ready(120, names=["index-1"])
    assert "shards loaded from disk" in stack.tail("index-1", 50)
    top = client.search(owned[1], QUERY)["results"][0]
    assert PLANTED in top["text"]
