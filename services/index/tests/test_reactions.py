"""Reactions and other names in the segment columns (issue 12): kept at ingest, counted by the
interaction report (received per author, given per named reactor, top emoji) against a count in
Python, by person once names are merged, suggested as people by Slack's real name; a segment of
the older column layout loads with none of either."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq

from chatlens.index.analytics.service import Analytics
from chatlens.index.manifests import ManifestReader
from chatlens.index.people import PeopleGrouper
from chatlens.index.storage import columns
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import (
    AnalyticsRequested,
    ChatMessage,
    PeopleMergeRequested,
    Reaction,
)

START = datetime(2025, 3, 1, 9, tzinfo=UTC)


def message(n: int, sender: str, reactions=(), alias=None, platform="slack") -> ChatMessage:
    return ChatMessage(
        message_id=f"m{n}",
        platform=platform,
        chat="general",
        sender=sender,
        sender_alias=alias,
        sent_at=START + timedelta(minutes=n),
        tz_assumption="UTC",
        text=f"message {n} from {sender}",
        seq=n,
        source_file="export.zip",
        reactions=list(reactions),
    )


MESSAGES = [
    message(
        0,
        "Ana",
        [
            Reaction(emoji="+1", count=2, users=["Ben", "Chloe"]),
            Reaction(emoji="tada", count=1, users=["Ben"]),
        ],
        alias="Ana Souza",
    ),
    message(1, "Ben", [Reaction(emoji="+1", count=3, users=["Ana"])]),  # Telegram-like: 1 named
    message(2, "Ana"),
    message(3, "Chloe", [Reaction(emoji="eyes", count=1, users=["Ana"])]),
    message(4, "Ana Souza", platform="whatsapp"),
]


def interaction(layout) -> dict:
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))
    return analytics.answer(
        AnalyticsRequested(org_id="org1", collection_id="coll1", report="interaction", top=10)
    ).result


def test_reactions_are_counted_as_python_counts_them(layout, run_messages, job_of):
    run_messages(job_of("j1", MESSAGES).all_messages())
    got = interaction(layout)["reactions"]
    received, given, emoji = {}, {}, {}
    for m in MESSAGES:
        for r in m.reactions:
            received[m.sender] = received.get(m.sender, 0) + r.count
            emoji[r.emoji] = emoji.get(r.emoji, 0) + r.count
            for user in r.users:
                given[user] = given.get(user, 0) + 1
    assert got["total"] == sum(received.values()) == 7
    assert {r["sender"]: r["count"] for r in got["received"]} == received
    assert {r["sender"]: r["count"] for r in got["given"]} == given
    assert [(e["emoji"], e["count"]) for e in got["emoji"]] == [("+1", 5), ("eyes", 1), ("tada", 1)]


def test_reactions_given_and_received_count_by_person_once_merged(
    layout, run_messages, job_of, ingestor
):
    run_messages(job_of("j1", MESSAGES).all_messages())
    for person, senders in (("Ana", ["Ana Souza"]), ("B & C", ["Ben", "Chloe"])):
        merge = PeopleMergeRequested(
            org_id="org1", collection_id="coll1", action="merge", person=person, senders=senders
        )
        PeopleGrouper(SegmentCache(8), ingestor).group(merge)
    got = interaction(layout)["reactions"]
    person = {"Ana Souza": "Ana", "Ben": "B & C", "Chloe": "B & C"}
    received, given = {}, {}
    for m in MESSAGES:
        for r in m.reactions:
            author = person.get(m.sender, m.sender)
            received[author] = received.get(author, 0) + r.count
            for user in r.users:
                given[person.get(user, user)] = given.get(person.get(user, user), 0) + 1
    assert {r["sender"]: r["count"] for r in got["received"]} == received == {"Ana": 3, "B & C": 4}
    assert {r["sender"]: r["count"] for r in got["given"]} == given == {"B & C": 3, "Ana": 2}
    assert got["total"] == 7


def test_a_real_name_suggests_one_person(layout, run_messages, job_of):
    run_messages(job_of("j1", MESSAGES).all_messages())
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))
    found = analytics.answer(
        AnalyticsRequested(org_id="org1", collection_id="coll1", report="identities")
    ).result["suggestions"]
    tied = [s for s in found if "real name" in s["evidence"]]
    assert [[p["sender"] for p in s["senders"]] for s in tied] == [["Ana", "Ana Souza"]]


def test_a_segment_of_the_older_layout_loads_with_no_reactions(tmp_path):
    table = columns.table_of(MESSAGES)
    old = table.drop_columns(["sender_alias", "reactions", "language"]).replace_schema_metadata(
        {b"chatlens.columns": b"2"}
    )
    pq.write_table(old, tmp_path / columns.COLUMNS)
    loaded = columns.load(tmp_path)
    assert loaded.schema == columns.SCHEMA
    assert loaded["reactions"].null_count == len(MESSAGES)
    assert loaded["sender_alias"].null_count == len(MESSAGES)
    assert loaded["text"].to_pylist() == [m.text for m in MESSAGES]
