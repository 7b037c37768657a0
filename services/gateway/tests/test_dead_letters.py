"""A message that kills its service on every delivery (issue 15): the process dies before its
handler could see ``Delivery.last``, so RabbitMQ's delivery limit moves the message to the
dead-letter queue with its job still 'running'. The gateway's sweeper fails that job (gave_up,
saying why) through the job events, parks the message for inspection and counts it.

Real RabbitMQ, a real gateway with its background consumers, and a real process that crashes:
each delivery of the upload's IngestRequested goes to a fresh embedding-worker stand-in that
reports progress and then exits without acking, like an out-of-memory kill."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time

import pika
import pytest
from prometheus_client import REGISTRY

from chatlens.gateway.app import create_app
from chatlens.shared import topology
from chatlens.shared.testing import queue_depths, throwaway_vhost

from .conftest import WHATSAPP

PARKED = "embedding.ingest.parked"
CRASHING_WORKER = """
import os, sys
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus

bus = Bus(sys.argv[1], "crashing-worker")

def handle(message, delivery):
    bus.publish(schemas.JobProgressed(job_id=message.job_id, stage="parsing", done=0, total=1))
    print(delivery.delivery_count, flush=True)
    os._exit(137)  # dies like a SIGKILL: no ack, no nack, no chance to see Delivery.last

bus.consumer(topology.INGEST_QUEUE.name, handle).run()
"""


@pytest.fixture
def database_url(tmp_path):  # one database is enough: the bus is what is under test
    return f"sqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def amqp_url():
    with throwaway_vhost("deadletters") as url:
        yield url


@pytest.fixture
def gateway(settings, amqp_url):
    app = create_app(settings.model_copy(update={"background": True, "amqp_url": amqp_url}))
    deadline = time.monotonic() + 20
    while not all(s.ready for s in app.extensions["chatlens.dead_letter_sweepers"]):
        assert time.monotonic() < deadline, "the dead-letter sweepers never started"
        time.sleep(0.05)
    yield app
    for consumer in (
        app.extensions["chatlens.consumer"],
        app.extensions["chatlens.broadcasts"],
        *app.extensions["chatlens.dead_letter_sweepers"],
    ):
        consumer.stop(5)
    app.extensions["chatlens.outbox"].stop()
    app.extensions["chatlens.bus"].close()
    app.extensions["chatlens.engine"].dispose()


def swept(queue: str, reason: str) -> float:
    return (
        REGISTRY.get_sample_value("chatlens_dead_letters_total", {"queue": queue, "reason": reason})
        or 0.0
    )


def job(client, headers, job_id):
    return client.get(f"/api/v1/jobs/{job_id}", headers=headers).json


def test_a_message_that_crashes_its_worker_every_time_fails_its_job_and_is_parked(
    gateway, amqp_url, auth
):
    client, headers = gateway.test_client(), auth()
    collection = client.post("/api/v1/collections", json={"name": "poison"}, headers=headers).json
    before = swept(topology.INGEST_QUEUE.name, "delivery_limit")
    response = client.post(
        f"/api/v1/collections/{collection['id']}/uploads",
        data={"files": [(io.BytesIO(WHATSAPP.encode()), "a.txt")]},
        headers=headers,
        content_type="multipart/form-data",
    )
    job_id = response.json["jobs"][0]["id"]

    deliveries = []
    for _ in range(topology.INGEST_QUEUE.delivery_limit + 3):  # a supervisor restarting it
        if job(client, headers, job_id)["status"] == "failed":
            break
        worker = subprocess.run(
            [sys.executable, "-c", CRASHING_WORKER, amqp_url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if worker.returncode == 137:
            deliveries.append(int(worker.stdout.split()[-1]))
            time.sleep(0.3)  # the job event (running) reaches the gateway
            if len(deliveries) == 1:
                assert job(client, headers, job_id)["status"] == "running"
        else:  # nothing left to crash on: the message was dead-lettered
            pytest.fail(f"the worker exited {worker.returncode}: {worker.stderr[-2000:]}")
        if len(deliveries) == topology.INGEST_QUEUE.delivery_limit + 1:
            break

    # The first delivery and `delivery_limit` more, each one killing its process.
    assert deliveries == list(range(topology.INGEST_QUEUE.delivery_limit + 1))
    deadline = time.monotonic() + 30
    while job(client, headers, job_id)["status"] != "failed":
        assert time.monotonic() < deadline, job(client, headers, job_id)
        time.sleep(0.2)
    failed = job(client, headers, job_id)
    assert failed["error"]["code"] == "gave_up"
    assert (
        "dead-lettered after 6 deliveries from embedding.ingest (ingest.requested)"
        in failed["error"]["message"]
    )
    assert swept(topology.INGEST_QUEUE.name, "delivery_limit") == before + 1

    # The message itself is kept, untouched, where nobody consumes it.
    deadline = time.monotonic() + 30
    while queue_depths(amqp_url).get(PARKED) != 1:
        assert time.monotonic() < deadline, queue_depths(amqp_url)
        time.sleep(0.5)
    assert queue_depths(amqp_url)[topology.INGEST_QUEUE.dead_letter_queue] == 0
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:  # an operator's look: read, then put back
        method, properties, body = connection.channel().basic_get(PARKED)
    finally:
        connection.close()
    assert method is not None
    assert properties.type == "ingest.requested"
    assert json.loads(body)["job_id"] == job_id
    assert properties.headers["x-chatlens-dead-reason"] == "delivery_limit"
    assert properties.headers["x-chatlens-deliveries"] == 6
