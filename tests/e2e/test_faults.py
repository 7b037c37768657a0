"""SIGKILL the embedding worker and the index in the middle of a job: the job still completes,
and every message is indexed exactly once."""

import signal
import subprocess
import sys
import time

import pytest

from .conftest import ROOT
from .test_upload_to_search import index_records, wait_job

pytestmark = pytest.mark.e2e
MESSAGES = 6000


def wait_progress(client, job_id, predicate, timeout=300):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if predicate(job):
            return job
        assert job["status"] not in ("succeeded", "failed"), f"job ended too early: {job}"
        time.sleep(0.2)
    raise AssertionError(f"no such progress in time: {client.job(job_id)}")


def test_killing_the_embedding_worker_and_the_index_mid_job_loses_and_duplicates_nothing(
    stack, user, tmp_path
):
    export = tmp_path / "WhatsApp Chat with Load Test.txt"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "gen_whatsapp.py"),
            str(MESSAGES),
            str(export),
            "--seed",
            "7",
        ],
        check=True,
    )
    collection = user.create_collection("faults")
    [job] = user.upload(collection["id"], [export])

    # Kill the embedding worker once it has published its first batches.
    wait_progress(
        user,
        job["id"],
        lambda j: j["progress"]["stage"] == "embedding" and j["progress"]["done"] > 0,
    )
    stack.kill("embedding-worker", signal.SIGKILL)
    stack.start("embedding-worker")
    stack.wait_ready(300, names=["embedding-worker"])

    # Kill the index while the redelivered job's batches stream in.
    time.sleep(2)
    stack.kill("index", signal.SIGKILL)
    stack.start("index")
    stack.wait_ready(120, names=["index"])

    final = wait_job(user, job["id"], timeout=900)
    assert final["status"] == "succeeded", final
    assert final["version"] == 1, "one job, one version, whatever was redelivered"

    records = index_records(stack, user.me()["org"]["id"], collection["id"])
    ids = [r["message_id"] for r in records]
    assert len(ids) == len(set(ids)), "a message was indexed twice"
    assert len(ids) == final["stats"]["messages"] == MESSAGES
    assert final["stats"]["added"] == MESSAGES

    hits = user.search(collection["id"], "lunch", k=3)
    assert hits["version"] == 1 and hits["results"]
