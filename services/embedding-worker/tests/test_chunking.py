"""Chunks are time-gap sessions of at most 20 messages, with ids as stable as message ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from chatlens.embedding_worker.chunking import assign_chunks, chunk_id_for, embedding_text
from chatlens.shared.schemas import ChatMessage

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)


def message(
    seq: int,
    minutes: float,
    *,
    chat: str = "Team",
    sender: str | None = "Ana",
    kind: str = "text",
    text: str = "hello",
) -> ChatMessage:
    return ChatMessage(
        message_id=f"m{seq}",
        platform="whatsapp",
        chat=chat,
        sender=sender,
        sent_at=START + timedelta(minutes=minutes),
        tz_assumption="UTC (assumed)",
        kind=kind,
        text=text,
        seq=seq,
        source_file="x.txt",
        source_line=seq + 1,
    )


def chunk_sizes(messages):
    sizes: dict[str, int] = {}
    for m in messages:
        sizes[m.chunk_id] = sizes.get(m.chunk_id, 0) + 1
    return list(sizes.values())


def test_a_gap_of_more_than_30_minutes_starts_a_new_chunk():
    chunked = list(assign_chunks([message(0, 0), message(1, 30), message(2, 61), message(3, 70)]))

    # 30 minutes exactly is still the same conversation; 31 is not.
    assert [m.chunk_id for m in chunked] == [chunk_id_for("m0")] * 2 + [chunk_id_for("m2")] * 2


def test_a_chunk_holds_at_most_20_messages():
    chunked = list(assign_chunks(message(i, i * 0.5) for i in range(45)))

    assert chunk_sizes(chunked) == [20, 20, 5]
    assert chunked[20].chunk_id == chunk_id_for("m20")


def test_a_new_chat_starts_a_new_chunk():
    chunked = list(assign_chunks([message(0, 0), message(1, 1, chat="Other")]))

    assert chunked[0].chunk_id != chunked[1].chunk_id


def test_a_clock_stepping_back_more_than_the_gap_starts_a_new_chunk():
    chunked = list(assign_chunks([message(0, 120), message(1, 0)]))

    assert chunk_sizes(chunked) == [1, 1]


def test_chunking_keeps_every_message_in_order_and_changes_nothing_else():
    originals = [
        message(0, 0),
        message(1, 5, kind="system", sender=None, text="Ana left"),
        message(2, 90),
    ]

    chunked = list(assign_chunks(originals))

    assert [m.model_copy(update={"chunk_id": None}) for m in chunked] == originals
    assert chunked[1].kind == "system" and not chunked[1].embeddable


def test_chunk_ids_are_deterministic():
    def run():
        return [m.chunk_id for m in assign_chunks(message(i, i * 7) for i in range(30))]

    assert run() == run()


def test_max_messages_must_be_positive():
    with pytest.raises(ValueError):
        list(assign_chunks([message(0, 0)], max_messages=0))


def test_the_embedded_text_names_the_speaker():
    assert embedding_text(message(0, 0, sender="Marta", text="Booked the venue")) == (
        "Marta: Booked the venue"
    )
    assert embedding_text(message(0, 0, sender=None, kind="system", text="Ana left")) == "Ana left"


def test_only_text_and_media_with_text_are_embeddable():
    assert message(0, 0).embeddable
    assert message(0, 0, kind="media", text="<Media omitted>").embeddable
    assert not message(0, 0, kind="deleted", text="This message was deleted").embeddable
    assert not message(0, 0, kind="system", sender=None).embeddable
    assert not message(0, 0, text="   ").embeddable
