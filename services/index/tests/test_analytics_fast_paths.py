"""The fast reports give exactly the answers of the straightforward ones
(``analytics_straightforward``: every statement deriving what it needs from the rows), on a
generated history and on crafted replies (cycles, deep chains, replies to events and to
messages outside the selection), across gaps, zones, buckets and selections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import analytics_straightforward as straightforward
import pytest
from analytics_data import generate

from chatlens.index.analytics import conversations, interaction, language, sql
from chatlens.index.analytics.frame import as_people
from chatlens.index.analytics.prepared import prepare
from chatlens.index.storage.columns import table_of
from chatlens.shared.schemas import ChatMessage


@pytest.fixture(scope="module")
def history():
    return generate(4000, seed=11)


def both(messages, zone, gap, fast, slow, people=None):
    frame = prepare(as_people(table_of(messages), people or {}), zone)
    with sql.connect(frame, gap) as con:
        got = fast(con, frame)
    with sql.connect(frame, gap) as con:
        want = slow(con)
    return got, want


@pytest.mark.parametrize("gap", [1, 30, 45, 240, 60 * 24 * 3])
@pytest.mark.parametrize("top", [1, 3, 50])
def test_conversations_equal_the_straightforward_report(history, gap, top):
    got, want = both(
        history,
        "Europe/Lisbon",
        gap,
        lambda con, frame: conversations.conversations(frame, gap, top),
        lambda con: straightforward.conversations(con, gap, top),
    )
    assert got == want
    assert got["count"] > 1 and got["ice_breakers"] and got["longest"]["participants"] > 1


@pytest.mark.parametrize(
    "zone, bucket", [("UTC", "month"), ("Asia/Kolkata", "week"), ("America/New_York", "day")]
)
@pytest.mark.parametrize("top", [2, 50])
def test_interaction_equals_the_straightforward_report(history, zone, bucket, top):
    got, want = both(
        history,
        zone,
        30,
        lambda con, frame: interaction.interaction(con, top, bucket),
        lambda con: straightforward.interaction(con, top, bucket),
    )
    assert got == want
    assert got["replies"] and got["reply_trees"]["count"] > 10 and got["over_time"]


@pytest.mark.parametrize("keep", ["whatsapp", "telegram", "slack"])
def test_a_selection_gives_the_same_answers_as_the_straightforward_reports(history, keep):
    """Replies to messages outside the selection count as none, in both."""
    kept = [m for m in history if m.platform == keep]
    got, want = both(
        kept,
        "UTC",
        30,
        lambda con, frame: (
            interaction.interaction(con, 5, "month"),
            conversations.conversations(frame, 30, 5),
        ),
        lambda con: (
            straightforward.interaction(con, 5, "month"),
            straightforward.conversations(con, 30, 5),
        ),
    )
    assert got == want


def test_people_count_as_one_sender_in_both(history):
    """Senders grouped into a person share one name in the frame (``frame.as_people``)."""
    people = {"Sam W": ["Sam", "Wei"], "M": ["Marta"]}
    got, want = both(
        history,
        "UTC",
        30,
        lambda con, frame: (
            interaction.interaction(con, 50, "month"),
            conversations.conversations(frame, 30, 50),
        ),
        lambda con: (
            straightforward.interaction(con, 50, "month"),
            straightforward.conversations(con, 30, 50),
        ),
        people,
    )
    assert got == want
    assert "Sam W" in {r["sender"] for r in got[1]["started_by"]}
    assert "Sam" not in {r["sender"] for r in got[1]["started_by"]}


def test_the_language_selection_equals_the_straightforward_count(history):
    """Texts per detected language and the messages read, counted in NumPy over the frame, as
    the scans of every row counted them."""
    texts = ["Obrigado pela ajuda, até amanhã no escritório", "Vielen Dank für die Hilfe heute"]
    said = history[:1500] + [
        message(5000 + i, text=texts[i % 2], deleted=i % 7 == 0) for i in range(60)
    ]
    got, want = both(
        said,
        "UTC",
        30,
        lambda con, frame: language.language(language.tallies(frame), 20, []),
        lambda con: straightforward.language_selection(con),
        people={"Sam W": ["Sam", "Wei"]},
    )
    assert {"messages": got["messages"], "detected": got["detected"]} == want
    assert {"pt", "de"} <= {d["language"] for d in got["detected"]}


def message(seq: int, reply_to: str | None = None, **fields) -> ChatMessage:
    return ChatMessage(
        **{
            "message_id": f"c{seq}",
            "platform": "telegram",
            "chat": "Replies",
            "sender": ["Ana", "Rui", "Eva"][seq % 3],
            "sent_at": datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=seq),
            "tz_assumption": "UTC",
            "text": f"message {seq}",
            "seq": seq,
            "source_file": "replies.txt",
            "reply_to": reply_to,
            **fields,
        }
    )


def test_crafted_reply_trees_equal_the_recursive_join():
    """A chain longer than a few doublings, a cycle and a message hanging off it, a reply to
    itself, a reply to a system event, to a message not in the export, and a system event that
    replies: the same trees, sizes and depths as the recursive join finds."""
    said = [message(0)]
    said += [message(i, f"c{i - 1}") for i in range(1, 300)]  # one chain, 300 deep
    said += [message(300), message(301, "c300"), message(302, "c300"), message(303, "c302")]
    said += [message(304, "c305"), message(305, "c304"), message(306, "c304")]  # a cycle
    said += [message(307, "c307")]  # answers itself
    said += [message(308, kind="system", sender=None, text="Eva joined")]
    said += [message(309, "c308"), message(310, "gone"), message(311, "c0", kind="system")]
    said += [message(312, "c309"), message(313, "c301", sender=None)]
    got, want = both(
        said,
        "UTC",
        30,
        lambda con, frame: interaction.interaction(con, 10, "day"),
        lambda con: straightforward.interaction(con, 10, "day"),
    )
    assert got == want
    trees = {t["message_id"]: (t["messages"], t["depth"]) for t in got["reply_trees"]["longest"]}
    # c309 answers an event, not a tree: it roots its own, with c312.
    assert trees == {"c0": (300, 300), "c300": (5, 3), "c309": (2, 2)}
    assert got["reply_trees"]["count"] == 3


def test_a_chain_deeper_than_the_bound_stops_there(monkeypatch):
    from chatlens.index.analytics import prepared

    monkeypatch.setattr(prepared, "MAX_DEPTH", 40)
    monkeypatch.setattr(straightforward, "MAX_DEPTH", 40)
    said = [message(0)] + [message(i, f"c{i - 1}") for i in range(1, 100)]
    got, want = both(
        said,
        "UTC",
        30,
        lambda con, frame: interaction.interaction(con, 10, "day")["reply_trees"],
        lambda con: straightforward.interaction(con, 10, "day")["reply_trees"],
    )
    assert got == want
    assert (got["messages"], got["deepest"]) == (40, 40)


def test_crafted_mentions_equal_the_per_request_matching():
    """Names run together, a longer name that starts like a shorter one, a name followed by a
    letter, one's own name, any case, a deleted message and an event: the same pairs."""
    texts = [
        "@ana@rui see you",  # two at once
        "thanks @Ana Lúcia and @ana",
        "@Anabela is nobody here; @EVA's turn",
        "@Rui @rui @RUI once per message",
        "@Eva talks to herself",
        "no at sign here",
    ]
    said = [message(i, text=text) for i, text in enumerate(texts)]
    said.append(message(10, text="@Rui gone", deleted=True))
    said.append(message(11, text="@Rui joined", kind="system", sender=None))
    said.append(message(12, text="hello", sender="Ana Lúcia"))
    got, want = both(
        said,
        "UTC",
        30,
        lambda con, frame: interaction.interaction(con, 5, "day")["mentions"],
        lambda con: straightforward.mentions(con),
    )
    assert got == want
    # Senders go Ana, Rui, Eva, Ana, Rui, Eva: "@ana" and "@EVA's" name their own writers.
    assert {(c["sender"], c["recipient"]): c["count"] for c in got} == {
        ("Ana", "Rui"): 2,  # "@ana@rui" and "@Rui @rui @RUI", once each
        ("Rui", "Ana Lúcia"): 1,
        ("Rui", "Ana"): 1,
        ("Rui", "Eva"): 1,
    }
