"""Readiness from dependencies and no hang on a dead service (issue 15): the gateway's /readyz is
503 while a service it calls has nothing consuming its RPC queue, and a request that needs that
service is a 503 with Retry-After at once, not after its deadline (a real RabbitMQ)."""

from __future__ import annotations

import time

from chatlens.gateway.db import Collection
from chatlens.shared import topology

from .test_api import create_collection


def serve(bus, queue, reply):
    server = bus.rpc_server(queue, lambda request, delivery: reply(request)).start()
    deadline = time.monotonic() + 20
    while not server.ready:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return server


def test_readiness_needs_every_service_and_a_dead_one_is_a_quick_503(app, client, auth):
    bus = app.extensions["chatlens.bus"]
    assert client.get("/readyz").status_code == 503  # nothing consumes any RPC queue yet
    servers = [
        serve(bus, queue, lambda request: None)
        for queue in (
            topology.EMBEDDING_RPC.name,
            topology.INDEX_RPC.name,
            topology.INFERENCE_RPC.name,
        )
    ]
    try:
        assert client.get("/readyz").status_code == 200
        servers.pop(1).stop()  # the index dies
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 503:
            assert time.monotonic() < deadline, "still ready without an index"
            time.sleep(0.1)

        headers = auth()
        collection_id = create_collection(client, headers)
        with app.extensions["chatlens.sessions"]() as session:  # indexed: a search asks the index
            session.get(Collection, collection_id).version = 1
            session.commit()
        started = time.monotonic()
        response = client.post(
            f"/api/v1/collections/{collection_id}/search",
            json={"query": "venue", "mode": "keyword"},
            headers=headers,
        )
        took = time.monotonic() - started
    finally:
        for server in servers:
            server.stop()
    assert response.status_code == 503, response.json
    assert response.json["error"]["code"] == "search_unavailable"
    assert response.headers["Retry-After"] == "5"
    assert took < 2.0, took  # the search deadline is 3 s here: it did not wait for it


def test_readiness_can_be_the_database_alone(app, client, settings):
    from chatlens.gateway.app import create_app

    alone = create_app(settings.model_copy(update={"ready_requires_services": False}))
    try:
        assert alone.test_client().get("/readyz").status_code == 200
    finally:
        alone.extensions["chatlens.bus"].close()
        alone.extensions["chatlens.engine"].dispose()
