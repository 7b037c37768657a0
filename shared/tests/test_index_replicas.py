"""Routing to index replicas: the shared hash, the routing keys, and queues on a real RabbitMQ."""

from collections import Counter

import pytest

from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus, PublishFailed
from chatlens.shared.testing import wait_for_depth


def search(collection_id: str) -> schemas.SearchRequested:
    return schemas.SearchRequested(
        org_id="o", collection_id=collection_id, query="x", mode="keyword"
    )


def test_the_owner_is_stable_and_spread_and_moves_little_when_replicas_are_added():
    ids = [f"collection-{n}" for n in range(3000)]
    two = [topology.index_replica(cid, 2) for cid in ids]
    assert two == [topology.index_replica(cid, 2) for cid in ids]  # same answer every time
    assert all(topology.index_replica(cid, 1) == 0 for cid in ids)
    counts = Counter(topology.index_replica(cid, 4) for cid in ids)
    assert set(counts) == {0, 1, 2, 3} and min(counts.values()) > 600  # about 750 each
    three = [topology.index_replica(cid, 3) for cid in ids]
    moved = sum(a != b for a, b in zip(two, three, strict=True))
    assert moved < len(ids) / 3 * 1.2  # jump hash: only the new replica's share moves
    assert all(b == 2 for a, b in zip(two, three, strict=True) if a != b)


def test_one_replica_keeps_todays_names_and_keys():
    assert topology.index_queues() == (topology.INDEX_QUEUE, topology.INDEX_RPC)
    assert topology.routing_key(search("c1"), 1) == "index.search"
    ingest, rpc = topology.index_queues(1, 3)
    assert (ingest.name, rpc.name) == ("index.ingest.r1", "index.rpc.r1")
    assert "chunks.embedded.r1" in ingest.bindings and "index.search.r1" in rpc.bindings
    assert ingest.arguments()["x-dead-letter-routing-key"] == "index.ingest.r1"
    with pytest.raises(ValueError):
        topology.index_queues(3, 3)


def test_only_messages_for_the_index_get_a_replica_suffix():
    owner = topology.index_replica("c1", 2)
    assert topology.routing_key(search("c1"), 2) == f"index.search.r{owner}"
    updated = schemas.IndexUpdated(job_id="j", collection_id="c1", version=1, stats={})
    assert topology.routing_key(updated, 2) == "index.updated"  # the gateway's, not the index's
    assert topology.routing_key(schemas.EmbedQuery(texts=["x"]), 2) == "embedding.query"


def test_a_replicated_publish_lands_in_the_owners_queue_only(amqp_url):
    bus = Bus(amqp_url, "test", index_replicas=2)
    bus.declare()
    try:
        ids = {topology.index_replica(f"c{n}", 2): f"c{n}" for n in range(20)}
        for replica, collection_id in sorted(ids.items()):
            bus.publish(
                schemas.EmbeddingFinished(
                    job_id="j", org_id="o", collection_id=collection_id, batches=0, stats={}
                )
            )
            assert wait_for_depth(amqp_url, f"index.ingest.r{replica}", 1)
        assert wait_for_depth(amqp_url, "index.ingest", 0)
        # A bus told of one replica only has no queue for a suffixed key, and says so.
        single, five = Bus(amqp_url, "test"), Bus(amqp_url, "test", index_replicas=5)
        try:
            single.publish(search(ids[0]))  # the plain key: the default queue exists
            fifth = next(
                c for c in (f"x{n}" for n in range(50)) if topology.index_replica(c, 5) == 4
            )
            with pytest.raises(PublishFailed):
                five.publish(search(fifth))
        finally:
            single.close()
            five.close()
    finally:
        bus.close()


def test_every_message_bound_for_the_index_names_its_collection():
    # Routing by collection needs one; a type without it would reach no replica.
    for type_ in topology.INDEX_TYPES:
        assert "collection_id" in schemas.MESSAGE_TYPES[type_].model_fields, type_
