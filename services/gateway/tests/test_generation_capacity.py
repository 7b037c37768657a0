"""A gateway process carries a bounded number of generations (application.capacity): the next
question is a 503 with Retry-After at once, a finished, failed or abandoned stream gives its slot
back, and searches go on while every slot is taken."""

from __future__ import annotations

import gc
import threading

import pytest
import requests

from chatlens.gateway.application.capacity import GenerationBusy, GenerationSlots

from . import test_answers
from .test_answers import embed, fake_services, indexed_collection
from .test_streaming_answers import index, streaming_inference

headers, served = test_answers.headers, test_answers.served


def test_slots_refuse_beyond_their_limit_and_come_back_when_released():
    slots = GenerationSlots(2)
    first, second = slots.take(), slots.take()
    with pytest.raises(GenerationBusy) as refused:
        slots.take()
    assert refused.value.code == "generation_busy" and refused.value.retry_after == 5
    first()
    first()  # releasing twice frees one slot, not two
    assert slots.in_use == 1
    slots.take()
    with pytest.raises(GenerationBusy):
        slots.take()
    second()
    assert slots.in_use == 1


def test_a_block_holds_its_slot_until_it_ends_even_when_it_fails():
    slots = GenerationSlots(1)
    with pytest.raises(RuntimeError), slots.held():
        assert slots.in_use == 1
        raise RuntimeError("the model failed")
    assert slots.in_use == 0


def stream():
    yield 1
    yield 2


@pytest.mark.parametrize("how", ["to the end", "closed midway", "failed", "never started"])
def test_a_stream_gives_its_slot_back_however_it_ends(how):
    slots = GenerationSlots(1)
    if how == "failed":

        def failing():
            yield 1
            raise RuntimeError("broken")

        held = slots.holding(slots.take(), failing())
        with pytest.raises(RuntimeError):
            list(held)
    else:
        held = slots.holding(slots.take(), stream())
        assert slots.in_use == 1
        if how == "to the end":
            assert list(held) == [1, 2]
        elif how == "closed midway":
            assert next(held) == 1
            held.close()
        else:  # a response dropped before its first byte: only collected
            del held
            gc.collect()
    assert slots.in_use == 0


def test_beyond_the_bound_a_question_is_a_503_and_searches_still_answer(
    app, client, headers, served, amqp_url
):
    """One slot: a streamed answer holds it while the model writes; a second question, streamed
    or not, is refused at once with Retry-After; search answers meanwhile; when the first answer
    ends, the next question is taken."""
    app.config["CHATLENS_SETTINGS"].max_concurrent_generations = 1
    app.extensions.pop("chatlens.backends", None)  # built on first use, now with one slot
    collection_id = indexed_collection(app, client, headers, version=2)
    gate = threading.Event()
    ask = f"{served}/api/v1/collections/{collection_id}/ask"
    with fake_services(
        amqp_url, embedding=embed, index=index, inference=streaming_inference([], gate=gate)
    ):
        first = requests.post(
            ask,
            headers=headers,
            stream=True,
            timeout=30,
            json={"question": "Where is the offsite?", "stream": True},
        )
        lines = first.iter_lines(decode_unicode=True)
        assert next(line for line in lines if line.startswith("event: token"))
        for stream_it in (True, False):
            refused = requests.post(
                ask,
                headers=headers,
                timeout=30,
                json={"question": "And when?", "stream": stream_it},
            )
            assert refused.status_code == 503
            assert refused.json()["error"]["code"] == "generation_busy"
            assert refused.headers["Retry-After"] == "5"
        found = requests.post(
            f"{served}/api/v1/collections/{collection_id}/search",
            headers=headers,
            timeout=30,
            json={"query": "offsite"},
        )
        assert found.status_code == 200 and found.json()["results"]
        gate.set()
        assert [line for line in lines if line.startswith("event: answer")]
        again = requests.post(
            ask,
            headers=headers,
            timeout=30,
            json={"question": "Where is the offsite?", "stream": True},
        )
        assert again.status_code == 200
        assert "event: answer" in again.text
