"""Summaries with the real SmolLM2 model on a real in-process Dask cluster, and over the bus."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from chatlens.inference.handlers import InferenceHandlers
from chatlens.inference.summaries import (
    Summarizer,
    best_supported,
    chunk_by_budget,
    cited_numbers,
)
from chatlens.shared import schemas, topology
from chatlens.shared.bus import Bus, PermanentError, RpcError

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
OFFSITE_THREAD = [
    ("Marta", "Shall we do the team offsite in Lisbon this year?"),
    ("Sam", "Lisbon works for me, I can look at venues."),
    ("Ana", "Please not before the 10th of March, I am travelling."),
    ("Marta", "Ok, let us aim for 12 to 14 March in Lisbon."),
    ("Sam", "I booked the venue in Lisbon for 12 to 14 March."),
    ("Ana", "Great, I will book the flights for everyone."),
    ("Marta", "Budget is 400 euros per person including the hotel."),
    ("Sam", "The hotel is next to the venue, 2 nights booked."),
    ("Ana", "Flights are booked, arriving on the 12th in the morning."),
    ("Marta", "Thanks all, the Lisbon offsite is settled."),
]


def thread(rows=OFFSITE_THREAD) -> list[schemas.ChatMessage]:
    return [
        schemas.ChatMessage(
            message_id=f"m{n}",
            platform="slack",
            chat="offsite",
            sender=sender,
            sent_at=T0 + timedelta(minutes=5 * n),
            tz_assumption="UTC",
            text=text,
            seq=n,
            source_file="export.json",
        )
        for n, (sender, text) in enumerate(rows)
    ]


def test_items_are_chunked_by_their_token_cost_in_order():
    assert chunk_by_budget([3, 3, 3, 3], 6) == [range(0, 2), range(2, 4)]
    assert chunk_by_budget([10, 1, 1], 5) == [range(0, 1), range(1, 3)]  # too big: alone
    assert chunk_by_budget([9, 9, 9], 5, at_least=2) == [range(0, 2), range(2, 3)]
    assert chunk_by_budget([], 5) == []


def test_citations_are_the_numbers_in_range_in_order_of_mention():
    assert cited_numbers("Booked [5], flights [6, 9] and [5] again; [40] is not one", 10) == [
        5,
        6,
        9,
    ]


def test_without_citations_a_chunk_cites_the_message_its_summary_shares_most_words_with():
    messages = thread()

    assert best_supported("Sam booked the venue in Lisbon", messages, range(0, 5)) == 5
    assert best_supported("Nothing in common here", messages, range(0, 5)) is None


def test_a_window_over_one_prompt_is_summarised_map_reduce_with_citations(llm_cluster, smollm):
    summarizer = Summarizer(llm_cluster, chunk_tokens=150, max_chunks=8, timeout_s=120)

    summary = summarizer.summarize(smollm, thread(), max_new_tokens=48)

    assert summary.chunks >= 2  # the window did not fit one 150-token prompt
    assert summary.text.strip()
    assert summary.model == "SmolLM2-135M-Instruct"
    assert 0 < summary.tokens <= 48 * (summary.chunks * 2)
    assert summary.cited and all(1 <= n <= len(OFFSITE_THREAD) for n in summary.cited)
    print(f"\nsummary ({summary.chunks} chunks, cited {summary.cited}): {summary.text}")


def test_a_window_that_fits_one_prompt_takes_one_step(llm_cluster, smollm):
    summary = Summarizer(llm_cluster, chunk_tokens=4000, max_chunks=8, timeout_s=120).summarize(
        smollm, thread()[:4], max_new_tokens=40
    )

    assert summary.chunks == 1 and summary.text.strip()
    assert "Lisbon" in summary.text


def test_a_window_needing_more_chunks_than_allowed_is_refused_with_the_limit(
    llm_cluster, registry, smollm
):
    handlers = InferenceHandlers(
        registry, llm_cluster, smollm.name, summary_chunk_tokens=150, summary_max_chunks=2
    )

    with pytest.raises(PermanentError) as refused:
        handlers.summarize(schemas.SummarizeRequested(messages=thread() * 3, max_new_tokens=48))

    assert refused.value.code == "summary_too_long"
    assert "at most 2" in str(refused.value)


def test_a_summary_with_an_unknown_model_is_refused(llm_cluster, registry, smollm):
    handlers = InferenceHandlers(registry, llm_cluster, smollm.name)

    with pytest.raises(PermanentError) as refused:
        handlers.summarize(schemas.SummarizeRequested(messages=thread()[:1], model="gpt-9"))
    assert refused.value.code == "unknown_model"


def test_a_summary_is_answered_over_the_bus(amqp_url, llm_cluster, registry, smollm):
    bus = Bus(amqp_url, "inference-tests")
    bus.declare()
    server = bus.rpc_server(
        topology.INFERENCE_RPC.name,
        InferenceHandlers(
            registry, llm_cluster, smollm.name, summary_chunk_tokens=150, summary_max_chunks=1
        ),
        prefetch=1,
        workers=1,
    ).start()
    try:
        deadline = time.monotonic() + 20
        while not server.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        reply = bus.rpc().call(
            schemas.SummarizeRequested(messages=thread()[:3], max_new_tokens=32), timeout=120
        )
        assert isinstance(reply, schemas.Summarized)
        assert reply.chunks == 1 and reply.summary
        with pytest.raises(RpcError) as refused:
            bus.rpc().call(
                schemas.SummarizeRequested(messages=thread(), max_new_tokens=32), timeout=120
            )
        assert refused.value.code == "summary_too_long"
    finally:
        server.stop()
        bus.rpc().close()
        bus.close()
