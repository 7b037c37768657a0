"""Topics through the whole stack: a WhatsApp export uploaded and embedded for real, the topics
job started through nginx and the gateway, run by the index on its Dask cluster with progress
events, its result read back, and a second request answered from the index's cache."""

import time

import pytest

from .conftest import ROOT
from .test_upload_to_search import wait_job

pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "samples" / "whatsapp-demo.txt"
TOPICS = {"k_min": 2, "k_max": 6, "map_points": 100, "min_words": 3}


def test_topics_of_an_uploaded_export_are_computed_as_a_job_and_cached(stack, user):
    collection = user.create_collection("topics")
    [upload] = user.upload(collection["id"], [SAMPLE])
    assert wait_job(user, upload["id"])["status"] == "succeeded"
    path = f"/api/v1/collections/{collection['id']}/analytics/topics"

    started = user._request("POST", path, json=TOPICS)
    assert started.status_code == 202, started.text
    job_id = started.json()["job"]["id"]
    stages = set()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        job = user.job(job_id)
        stages.add(job["progress"]["stage"])
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    assert job["version"] == 1 and 2 <= job["stats"]["k"] <= 6
    assert stages & {"reading", "clustering", "labelling", "mapping"}

    query = "&".join(f"{name}={value}" for name, value in TOPICS.items())
    result = user._request("GET", f"{path}?{query}").json()
    assert result["version"] == 1 and result["k"] == job["stats"]["k"]
    assert len(result["topics"]) == result["k"]
    assert sum(t["size"] for t in result["topics"]) == result["clustered"] > 50
    assert result["noise"] > 0  # "ok", "thanks!" and the like
    for topic in result["topics"]:
        assert topic["label"] and len(topic["representatives"]) == min(3, topic["size"])
        found = user._request(
            "GET",
            f"/api/v1/collections/{collection['id']}/messages/"
            f"{topic['representatives'][0]['message_id']}",
        ).json()
        assert found["message"]["text"].startswith(topic["representatives"][0]["text"][:50])
    assert len(result["map"]["points"]) == min(100, result["clustered"])

    again = user._request("POST", path, json=TOPICS)
    assert again.status_code == 200 and again.json()["topics"] == result["topics"]
