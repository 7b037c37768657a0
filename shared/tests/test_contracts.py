"""Bus contracts declare themselves: a message type registers itself and carries its routing."""

from __future__ import annotations

from typing import ClassVar

import pytest

from chatlens.shared import queues, schemas, topology


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def test_every_message_class_registers_itself():
    declared = {
        cls.type: cls
        for cls in _all_subclasses(schemas.Message)
        if "type" in vars(cls) and cls.__module__ == schemas.__name__
    }
    assert declared == schemas.MESSAGE_TYPES


def test_an_impostor_declared_not_to_register_is_unknown_to_the_bus():
    class Impostor(schemas.Message, register=False):
        type: ClassVar[str] = schemas.IngestRequested.type

    assert schemas.MESSAGE_TYPES[Impostor.type] is schemas.IngestRequested


def test_every_message_type_is_routable():
    assert topology.unroutable() == []


def test_every_queue_is_bound_to_what_names_it():
    for spec in topology.QUEUES:
        assert spec.bindings, spec.name
        for type_ in spec.bindings:
            assert schemas.MESSAGE_TYPES[type_].queue == spec.name


@pytest.fixture
def scratch_types():
    """Message types a test declares are removed from the registry afterwards."""
    before = dict(schemas.MESSAGE_TYPES)
    yield
    schemas.MESSAGE_TYPES.clear()
    schemas.MESSAGE_TYPES.update(before)


def test_a_type_without_a_queue_or_a_request_is_reported(scratch_types):
    class Orphaned(schemas.Message):
        type: ClassVar[str] = "test.orphaned"

    class Misfiled(schemas.Message):
        type: ClassVar[str] = "test.misfiled"
        queue = "no.such.queue"

    class Answering(schemas.Message):
        type: ClassVar[str] = "test.answering"
        answers = (schemas.IngestRequested,)  # an event, not an RPC request

    assert schemas.MESSAGE_TYPES["test.orphaned"] is Orphaned
    assert sorted(topology.unroutable()) == [
        "test.answering: answers ingest.requested, not an RPC request",
        "test.misfiled: queue 'no.such.queue' is not declared",
        "test.orphaned: names no queue and nothing it answers",
    ]


def test_an_rpc_request_without_a_reply_type_is_reported(scratch_types, monkeypatch):
    class Unanswered(schemas.Message):
        type: ClassVar[str] = "test.unanswered"
        queue = queues.INDEX_RPC

    spec = topology.QueueSpec(queues.INDEX_RPC, topology.bound_to(queues.INDEX_RPC), rpc=True)
    monkeypatch.setattr(
        topology, "QUEUES", tuple(spec if s.name == spec.name else s for s in topology.QUEUES)
    )
    assert topology.unroutable() == ["test.unanswered: an RPC request with no reply type"]


def test_two_classes_cannot_declare_one_type(scratch_types):
    with pytest.raises(TypeError, match="index.search"):

        class Impostor(schemas.Message):
            type: ClassVar[str] = "index.search"


def test_rpc_requests_declare_their_refusal_codes():
    assert "version_not_found" in schemas.SearchRequested.errors
    assert "message_not_found" in schemas.MessageRequested.errors
    assert "unknown_model" in schemas.GenerateRequested.errors
    assert schemas.BUS_ERRORS == {"invalid_message", "unsupported", "internal", "unavailable"}
