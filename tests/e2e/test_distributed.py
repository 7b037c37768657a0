"""The distributed layout: a Dask scheduler with separate embedding and LLM workers that the model
services join (DASK_SCHEDULER_ADDRESS), instead of their in-process LocalClusters."""

import pytest
from distributed import Client as DaskClient

from chatlens.cli.client import Client
from chatlens.cli.stack import Stack, StackConfig
from chatlens.shared import schemas
from chatlens.shared.bus import Bus
from chatlens.shared.testing import require_server, throwaway_vhost

from .conftest import BASE_PORT, ROOT
from .test_upload_to_search import PLANTED, SAMPLE, wait_job

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def dask_stack(tmp_path_factory):
    require_server("127.0.0.1", 5672, "RabbitMQ")
    with throwaway_vhost("e2e-dask") as amqp_url:
        stack = Stack(
            StackConfig(
                root=ROOT,
                state=tmp_path_factory.mktemp("dask-stack"),
                amqp_url=amqp_url,
                base_port=BASE_PORT + 200,
                nginx=False,
                dask=True,
            )
        )
        try:
            stack.up(wait_s=600)
            yield stack
        finally:
            stack.down()


def test_models_run_on_the_remote_workers_that_carry_their_resource(dask_stack):
    with DaskClient(dask_stack.config.scheduler_address, timeout=30) as dask:
        workers = dask.run(
            lambda dask_worker: (
                dict(dask_worker.state.total_resources),
                sorted(dask_worker.plugins),
            )
        )
    by_resource = {next(iter(resources)): plugins for resources, plugins in workers.values()}
    assert "chatlens-embedder" in by_resource["embed"]
    assert "chatlens-llm" in by_resource["llm"]
    for service in ("embedding-worker", "inference"):
        log = (dask_stack.logs / f"{service}.log").read_text()
        assert "joining Dask scheduler" in log and "LocalCluster" not in log


def test_ingest_search_and_generation_through_the_shared_scheduler(dask_stack):
    client = Client(dask_stack.config.gateway_url)
    client.register("dask@example.com", "correct horse battery staple")
    client.login("dask@example.com", "correct horse battery staple")
    collection = client.create_collection("distributed")
    [job] = client.upload(collection["id"], [SAMPLE])
    assert wait_job(client, job["id"])["status"] == "succeeded"
    top = client.search(collection["id"], "when is the team trip to Portugal?")["results"][0]
    assert PLANTED in top["text"]

    bus = Bus(dask_stack.config.amqp_url, "e2e")
    reply = bus.rpc().call(
        schemas.GenerateRequested(
            prompt="Context: The offsite is in Lisbon from 12 to 14 March.\n"
            "Question: Where is the offsite?",
            max_new_tokens=24,
        ),
        timeout=120,
    )
    bus.close()
    assert "Lisbon" in reply.text and 0 < reply.tokens <= 24
