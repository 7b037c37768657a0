"""The prompt-echo guard against the real SmolLM2 (issue 12): asked "Who sent the most
messages?" or to list the messages over the RAG prompt, the 135M model copies the prompt's
context lines (greedy decoding, so the same every run); the guard recognises each output, so
/ask returns a quote of a message instead (``application/echo.py``)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest

from chatlens.gateway.application import grounding
from chatlens.gateway.application.echo import echoed
from chatlens.gateway.application.prompting import SYSTEM, build_prompt
from chatlens.shared import schemas
from chatlens.shared.testing import slow_model

SAID = [
    ("Marta", "Booked the venue in Lisbon for the offsite"),
    ("Sam", "great, thanks!"),
    ("Inês", "Who is bringing the projector?"),
    ("Marta", "I will bring it"),
    ("Sam", "lunch at 1?"),
]
MESSAGES = [
    schemas.ChatMessage(
        message_id=f"m{i}",
        platform="whatsapp",
        chat="Team",
        sender=sender,
        sent_at=datetime(2025, 2, 14, 11, tzinfo=UTC) + timedelta(minutes=i),
        tz_assumption="UTC",
        text=text,
        seq=i,
        source_file="chat.txt",
    )
    for i, (sender, text) in enumerate(SAID)
]


@pytest.fixture(scope="module")
def model():
    slow_model("the echo guard with SmolLM2")
    import torch

    from chatlens.inference.generation import complete, default_torch_threads, load
    from chatlens.inference.registry import Registry

    torch.set_num_threads(default_torch_threads())
    spec = Registry.load().llm()
    loaded = load(spec)

    def generate(question: str) -> tuple[str, str]:
        prompt = build_prompt(question, MESSAGES)
        with ThreadPoolExecutor(1) as pool:  # as the engine's decode loop runs it
            done = pool.submit(complete, spec, loaded, prompt, SYSTEM, 120).result()
        return done.text.strip(), prompt

    return generate


@pytest.mark.parametrize("question", ["Who sent the most messages?", "List all the messages."])
def test_the_models_echo_of_its_prompt_is_caught_and_quoted_instead(model, question):
    raw, prompt = model(question)
    assert echoed(raw, [SYSTEM], prompt) is not None, raw
    quoted = grounding.extract(question, MESSAGES, [1], "echoed_prompt")
    assert quoted.extractive and " in Team:" not in quoted.text
