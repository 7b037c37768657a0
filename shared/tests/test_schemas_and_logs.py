"""Messages, vectors, settings and JSON logging."""

import json
import logging

import numpy as np
import pytest
from pydantic import ValidationError

from chatlens.shared import logs, schemas
from chatlens.shared.settings import CommonSettings


def test_every_message_round_trips_through_its_wire_type():
    message = schemas.JobProgressed(job_id="j", stage="embedding", done=3, total=9)
    decoded = schemas.decode(message.type, schemas.encode(message))
    assert decoded == message and decoded.id == message.id


def test_vectors_travel_as_exact_float32():
    array = np.random.default_rng(1).standard_normal((5, 384)).astype("float32")
    assert np.array_equal(schemas.Vectors.from_array(array).to_array(), array)


def test_unknown_types_newer_schema_versions_and_extra_fields_are_refused():
    body = schemas.encode(schemas.EmbedQuery(texts=["x"]))
    with pytest.raises(schemas.UnknownMessage):
        schemas.decode("no.such.type", body)
    with pytest.raises(schemas.UnknownMessage):
        schemas.decode(schemas.EmbedQuery.type, body, schema_version=99)
    with pytest.raises(ValidationError):
        schemas.decode(schemas.EmbedQuery.type, b'{"texts": ["x"], "evil": 1}')


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("AMQP_URL", "amqp://u:p@h:1/v")
    monkeypatch.setenv("BUS_PREFETCH", "3")
    settings = CommonSettings()
    assert settings.amqp_url == "amqp://u:p@h:1/v" and settings.bus_prefetch == 3
    monkeypatch.setenv("BUS_PREFETCH", "0")
    with pytest.raises(ValidationError):
        CommonSettings()


def test_log_lines_are_json_with_service_and_correlation_id(capsys):
    logs.configure_logging("svc", "INFO")
    try:
        with logs.correlation("cid-1"):
            logging.getLogger("x").info("hello", extra={"job": "j1"})
        line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    finally:
        logging.getLogger().handlers.clear()
    assert line["message"] == "hello" and line["service"] == "svc"
    assert line["correlation_id"] == "cid-1" and line["job"] == "j1" and line["level"] == "INFO"
