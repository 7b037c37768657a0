"""A WhatsApp export through nginx, the gateway, RabbitMQ, the embedding worker on Dask and the
index, then found by meaning. Everything is real: processes, broker, models."""

import json
import time
from pathlib import Path

import pytest
import requests

from .conftest import ROOT

pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "samples" / "whatsapp-demo.txt"
PLANTED = "Booked the venue in Lisbon for the offsite"


def wait_job(client, job_id, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.job(job_id)
        if job["status"] in ("succeeded", "failed"):
            return job
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {client.job(job_id)}")


def test_nginx_fronts_the_gateway_and_passes_the_correlation_id(stack):
    response = requests.get(
        f"{stack.config.nginx_url}/readyz", headers={"X-Correlation-ID": "e2e-corr-1"}, timeout=10
    )
    assert response.status_code == 200
    assert response.headers["X-Correlation-ID"] == "e2e-corr-1"
    openapi = requests.get(f"{stack.config.nginx_url}/api/v1/openapi.json", timeout=10).json()
    assert "/api/v1/collections/{collection_id}/search" in openapi["paths"]


def test_an_export_is_ingested_and_a_paraphrase_finds_the_message(stack, user):
    collection = user.create_collection("e2e")
    [job] = user.upload(collection["id"], [SAMPLE])
    events = list(user.job_events(job["id"]))
    assert events[-1][0] == "done"
    stages = {data["progress"]["stage"] for _, data in events}
    final = wait_job(user, job["id"])
    assert final["status"] == "succeeded", final
    assert final["version"] == 1
    assert final["stats"]["added"] > 100
    assert stages & {"parsing", "embedding", "indexing"}

    hits = user.search(collection["id"], "when is the team trip to Portugal?", k=5)
    assert hits["version"] == 1
    top = hits["results"][0]
    assert PLANTED in top["text"], hits["results"]
    assert top["sender"] == "Marta" and top["platform"] == "whatsapp"
    assert top["context"], "a hit comes with its neighbouring messages"

    # The same export again adds nothing twice.
    [again] = user.upload(collection["id"], [SAMPLE])
    second = wait_job(user, again["id"])
    assert second["status"] == "succeeded" and second["stats"]["added"] == 0
    assert second["stats"]["duplicates"] == final["stats"]["added"]


def test_a_file_that_is_not_a_chat_export_is_refused_at_the_door(stack, user, tmp_path):
    collection = user.create_collection("e2e-bad")
    prose = tmp_path / "notes.txt"
    prose.write_text("Dear diary, nothing happened today.\n" * 20)
    with pytest.raises(Exception) as refused:
        user.upload(collection["id"], [prose])
    assert refused.value.status == 422 and refused.value.code == "not_a_chat_export"


def test_a_file_that_fails_to_parse_fails_its_job_with_a_reason(stack, user, tmp_path):
    collection = user.create_collection("e2e-unparseable")
    # Looks like WhatsApp in its first line (so the gateway accepts it), but nothing parses.
    broken = tmp_path / "broken.txt"
    broken.write_text("12/03/2024, 09:15\n" + "garbage line without a sender\n" * 10)
    [job] = user.upload(collection["id"], [broken])
    final = wait_job(user, job["id"])
    assert final["status"] == "failed"
    assert final["error"]["code"] and final["error"]["message"]
    assert user.search(collection["id"], "anything")["results"] == []


def index_records(stack, org_id: str, collection_id: str) -> list[dict]:
    """What the index holds for a collection, read from its live segments on disk."""
    repo = Path(stack.data) / "index" / "collections" / org_id / collection_id
    manifest = json.loads((repo / "manifest.json").read_text())
    records = []
    for segment in manifest["segments"]:
        lines = (repo / "segments" / segment["id"] / "messages.jsonl").read_text().splitlines()
        records.extend(json.loads(line) for line in lines if line)
    return records


def test_a_question_is_answered_from_the_export_and_cites_the_planted_message(stack, user):
    collection = user.create_collection("e2e-ask")
    [job] = user.upload(collection["id"], [SAMPLE])
    assert wait_job(user, job["id"])["status"] == "succeeded"

    response = user.session.post(
        f"{user.base_url}/api/v1/collections/{collection['id']}/ask",
        json={"question": "When is the offsite in Lisbon?"},
        timeout=300,
    )
    assert response.status_code == 201, response.text
    answer = response.json()
    print(f"answer: {answer['answer']!r}; cited: {[c['text'] for c in answer['citations']]}")
    assert answer["model"] == "SmolLM2-135M-Instruct" and answer["version"] == 1
    # The small model's wording varies; what it was shown and cites does not.
    planted = [c for c in answer["citations"] if PLANTED in c["text"]]
    assert planted and planted[0]["sender"] == "Marta" and planted[0]["sent_at"]
    stored = user.session.get(f"{user.base_url}/api/v1/answers/{answer['id']}", timeout=30)
    assert stored.status_code == 200 and stored.json()["citations"] == answer["citations"]
    # Each citation is a message the user can open, with its neighbours in the chat.
    opened = user.session.get(
        f"{user.base_url}/api/v1/collections/{collection['id']}/messages/"
        f"{planted[0]['message_id']}",
        params={"context": 2},
        timeout=30,
    )
    assert opened.status_code == 200, opened.text
    assert PLANTED in opened.json()["message"]["text"]
    assert opened.json()["message"]["source_file"] and len(opened.json()["before"]) == 2


def test_the_openai_client_talks_to_the_real_model_through_nginx(stack, user):
    import openai

    client = openai.OpenAI(
        base_url=f"{stack.config.nginx_url}/v1", api_key=user.token, max_retries=0, timeout=300
    )
    assert "SmolLM2-135M-Instruct" in [m.id for m in client.models.list()]
    vectors = client.embeddings.create(model="all-MiniLM-L6-v2", input=["offsite", "Lisbon"])
    assert [len(d.embedding) for d in vectors.data] == [384, 384]
    completion = client.chat.completions.create(
        model="SmolLM2-135M-Instruct",
        max_tokens=16,
        messages=[{"role": "user", "content": "What is the capital of Portugal?"}],
    )
    assert completion.choices[0].message.content
    chunks = list(
        client.chat.completions.create(
            model="SmolLM2-135M-Instruct",
            max_tokens=8,
            stream=True,
            messages=[{"role": "user", "content": "Say hi"}],
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks)
