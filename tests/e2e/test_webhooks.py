"""Webhooks through the whole stack (issue 14): an owner registers a webhook on a collection, an
export goes through nginx, the gateway, RabbitMQ, the embedding worker and the index, and a REAL
receiver on loopback gets ``job.succeeded`` and ``version.created``, signed with the secret it
was shown once. The stack's gateway is told to allow private addresses and plain http (loopback
is both), as an operator would for an internal receiver."""

import json
import sys
import time
from pathlib import Path

import pytest

from chatlens.gateway.webhooks import signing

from .conftest import ROOT, environment
from .test_upload_to_search import SAMPLE, wait_job

sys.path.insert(0, str(ROOT / "services" / "gateway" / "tests"))
from webhook_receiver import serve  # noqa: E402

pytestmark = pytest.mark.e2e
ALLOW = {"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_POLL_S": "0.2"}


@pytest.fixture(scope="module", autouse=True)
def webhook_env():
    """Before the module's stack starts (autouse comes first): its gateway inherits these."""
    with environment(ALLOW):
        yield


def test_an_upload_announces_job_succeeded_and_version_created_to_the_receiver(stack, user):
    collection = user.create_collection("webhooks")
    with serve() as receiver:
        receiver.plan = [503]  # the first attempt fails: the dispatcher retries it
        created = user._request(
            "POST",
            f"/api/v1/collections/{collection['id']}/webhooks",
            json={"url": receiver.url, "events": ["job.succeeded", "version.created"]},
        ).json()
        [job] = user.upload(collection["id"], [Path(SAMPLE)])
        final = wait_job(user, job["id"])
        assert final["status"] == "succeeded", final
        deadline = time.monotonic() + 120
        while len({r.headers["Chatlens-Event"] for r in receiver.answered(200)}) < 2:
            assert time.monotonic() < deadline, [r.headers for r in receiver.received]
            time.sleep(0.2)
    arrived = {r.headers["Chatlens-Event"]: r for r in receiver.answered(200)}
    for event, request in arrived.items():
        assert signing.verify(
            created["secret"], request.headers["Chatlens-Signature"], request.body
        ), event
    succeeded = json.loads(arrived["job.succeeded"].body)
    assert succeeded["data"]["id"] == job["id"] and succeeded["data"]["version"] == 1
    version = json.loads(arrived["version.created"].body)
    assert version["data"]["version"] == 1 and version["data"]["cause"] == "ingest"
    assert version["collection_id"] == collection["id"]
    ids = [r.headers["Chatlens-Delivery"] for r in receiver.received]
    assert len(set(ids)) == 2 and len(ids) == 3  # one retried, same id; nothing else sent
    log = user._request(
        "GET", f"/api/v1/collections/{collection['id']}/webhooks/{created['id']}/deliveries"
    ).json()["deliveries"]
    assert sorted(d["status"] for d in log) == ["delivered", "delivered"]
    assert sorted(d["attempts"] for d in log) == [1, 2]
