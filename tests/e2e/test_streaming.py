"""Streamed answers through the whole stack: nginx, the gateway, RabbitMQ, the inference service
and the batching engine on its Dask worker, with the real SmolLM2. ``/ask`` with ``stream: true``
sends tokens as server-sent events then the recorded answer with its citations, and the real
OpenAI client reads a streamed chat completion in several chunks."""

import json
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from .conftest import ROOT
from .test_upload_to_search import wait_job

pytestmark = pytest.mark.e2e
SAMPLE = ROOT / "samples" / "whatsapp-demo.txt"


def sse_events(response) -> list[tuple[str, dict]]:
    events, name = [], "message"
    for line in response.iter_lines(decode_unicode=True):
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((name, json.loads(line.removeprefix("data: "))))
            name = "message"
    return events


def test_ask_streams_tokens_then_the_answer_with_citations(stack, user):
    collection = user.create_collection("stream")
    [job] = user.upload(collection["id"], [SAMPLE])
    assert wait_job(user, job["id"])["status"] == "succeeded"

    with requests.post(
        f"{stack.config.nginx_url}/api/v1/collections/{collection['id']}/ask",
        json={"question": "Where is the offsite?", "stream": True},
        headers={"Authorization": f"Bearer {user.token}"},
        stream=True,
        timeout=600,
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        events = sse_events(response)

    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "answer" and names.count("token") >= 2
    answer = events[-1][1]
    streamed = "".join(data["text"] for name, data in events if name == "token")
    # The tokens are the model's draft; the final event carries the answer checked against its
    # citations: the draft itself, or, when it states what the citations do not, a quote of one.
    assert answer["grounding"] is not None
    if answer["extractive"]:
        assert answer["grounding"]["reason"] in ("unsupported_claims", "no_information")
        assert answer["answer"] != streamed.strip() and "[" in answer["answer"]
    else:  # as written ("recited" only moves its [n] to the message that says it)

        def unmarked(text):
            return re.sub(r"\s*\[\d+\]", "", text).strip()

        assert unmarked(streamed) == unmarked(answer["answer"])
    assert answer["version"] == 1 and answer["citations"]
    assert (
        user.session.get(
            f"{stack.config.nginx_url}/api/v1/answers/{answer['id']}", timeout=30
        ).json()
        == answer
    )


def test_the_openai_client_streams_a_chat_completion_in_chunks(stack, user):
    import openai

    client = openai.OpenAI(
        base_url=f"{stack.config.nginx_url}/v1", api_key=user.token, max_retries=0, timeout=300
    )
    chunks = list(
        client.chat.completions.create(
            model="SmolLM2-135M-Instruct",
            max_tokens=24,
            stream=True,
            stream_options={"include_usage": True},
            messages=[
                {"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": "What is the capital of France?"},
            ],
        )
    )

    pieces = [
        c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content
    ]
    assert len(pieces) >= 2
    assert "Paris" in "".join(pieces)
    assert chunks[-1].usage.completion_tokens > 1 and chunks[-1].usage.prompt_tokens > 10


def test_concurrent_greedy_completions_match_one_at_a_time(stack, user):
    import openai

    client = openai.OpenAI(
        base_url=f"{stack.config.nginx_url}/v1", api_key=user.token, max_retries=0, timeout=300
    )

    def complete(question):
        return (
            client.chat.completions.create(
                model="SmolLM2-135M-Instruct",
                max_tokens=16,
                temperature=0,
                messages=[{"role": "user", "content": question}],
            )
            .choices[0]
            .message.content
        )

    questions = [f"Name a fruit that starts with the letter {c}." for c in "ABCD"]
    alone = [complete(q) for q in questions]
    with ThreadPoolExecutor(len(questions)) as pool:
        together = list(pool.map(complete, questions))
    assert together == alone
