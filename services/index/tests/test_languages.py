"""Language per message (issue 12): detected at ingest by py3langid, kept as a segment column,
and broken down by the language report; a short or unclear text has none, and a segment written
before the column gets it when it is loaded, from the same detector."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from chatlens.index.analytics.service import Analytics
from chatlens.index.manifests import ManifestReader
from chatlens.index.storage import columns, languages, words
from chatlens.index.storage.segment import SegmentCache
from chatlens.shared.schemas import AnalyticsRequested, ChatMessage, SearchFilters

SAID = [
    "Booked the venue in Lisbon for the offsite next month",
    "Can someone send me the invoice before Friday please",
    "Reservei o local em Lisboa para a reunião do mês que vem",
    "Vamos almoçar amanhã perto do escritório?",
    "Das Treffen ist morgen um zehn Uhr im großen Raum",
    "ok",
    "lol 😂",
]


def message(n: int, text: str, kind: str = "text") -> ChatMessage:
    return ChatMessage(
        message_id=f"m{n}",
        platform="whatsapp",
        chat="Team",
        sender="Ana",
        sent_at=datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=n),
        tz_assumption="UTC",
        kind=kind,
        text=text,
        seq=n,
        source_file="chat.txt",
    )


def ask_filtered(analytics: Analytics, report: str, codes: list[str]) -> dict:
    """``report`` of the test collection, filtered to the languages ``codes``."""
    return analytics.answer(
        AnalyticsRequested(
            org_id="org1",
            collection_id="coll1",
            report=report,
            filters=SearchFilters(language=codes),
        )
    ).result


def test_clear_texts_get_their_language_and_short_ones_none():
    assert [languages.detect(t) for t in SAID] == ["en", "en", "pt", "pt", "de", None, None]


def test_the_language_report_counts_the_languages_kept_at_ingest(layout, run_messages, job_of):
    messages = [message(n, text) for n, text in enumerate(SAID)]
    messages.append(message(99, "Ana joined the group chat today", kind="system"))
    run_messages(job_of("j1", messages).all_messages())
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))
    got = analytics.answer(
        AnalyticsRequested(org_id="org1", collection_id="coll1", report="language")
    ).result["detected"]
    expected: dict[str | None, int] = {}
    for m in messages:
        if m.kind == "text":
            code = languages.detect(m.text)
            expected[code] = expected.get(code, 0) + 1
    assert (
        {d["language"]: d["messages"] for d in got}
        == expected
        == {"en": 2, "pt": 2, "de": 1, None: 2}
    )


def test_a_segment_of_layout_3_gets_its_languages_detected_when_loaded(tmp_path):
    messages = [message(n, text) for n, text in enumerate(SAID)]
    messages.append(message(99, "Ana joined the group chat today", kind="system"))
    table = columns.table_of(messages)
    assert table["language"].to_pylist()[:5] == ["en", "en", "pt", "pt", "de"]
    old = table.drop_columns(["language", *words.FIELDS]).replace_schema_metadata(
        {b"chatlens.columns": b"3"}
    )
    pq.write_table(old, tmp_path / columns.COLUMNS)
    loaded = columns.load(tmp_path)
    assert loaded.schema == columns.SCHEMA
    assert loaded.to_pylist() == table.to_pylist()  # as ingest derives them; events have none
    assert loaded["language"].to_pylist()[-1] is None
    # Built from messages at load (a segment older than the file): detected there too.
    assert columns.table_of(messages)["language"].to_pylist() == table["language"].to_pylist()


def test_an_older_segment_is_read_by_the_language_filter_and_report_as_a_new_one(
    layout, run_messages, job_of
):
    messages = [message(n, text) for n, text in enumerate(SAID * 2)]
    run_messages(job_of("j1", messages).all_messages())

    def ask(report: str, codes: list[str]) -> dict:  # segments loaded anew each time
        return ask_filtered(Analytics(ManifestReader(layout), SegmentCache(8)), report, codes)

    asked = [(report, codes) for report in ("language", "overview") for codes in ([], ["pt"])]
    new = [ask(report, codes) for report, codes in asked]
    [file] = layout.collection("org1", "coll1").glob(f"segments/*/{columns.COLUMNS}")
    table = pq.read_table(file)
    old = table.drop_columns(["language", *words.FIELDS]).replace_schema_metadata(
        {b"chatlens.columns": b"3"}
    )
    pq.write_table(old, file)  # as a segment written before the language column
    assert [ask(report, codes) for report, codes in asked] == new
    assert {d["language"]: d["messages"] for d in new[0]["detected"]} == {
        "en": 4,
        "pt": 4,
        "de": 2,
        None: 4,
    }
    assert new[3]["messages"] == 4


def test_a_language_filter_keeps_the_texts_detected_in_those_languages(
    layout, run_messages, job_of
):
    """Every report reads the filter like platform or sender: the same counts as the texts
    whose detected language is asked for (any case); a text with none passes no language."""
    messages = [message(n, text) for n, text in enumerate(SAID * 3)]
    messages.append(message(99, "Ana joined the group chat today", kind="system"))
    run_messages(job_of("j1", messages).all_messages())
    analytics = Analytics(ManifestReader(layout), SegmentCache(8))

    def ask(report: str, codes: list[str]) -> dict:
        return ask_filtered(analytics, report, codes)

    detected = {m.message_id: languages.detect(m.text) for m in messages if m.kind == "text"}
    for codes in (["pt"], ["PT", "de"], ["en", "de", "pt"], ["fr"]):
        wanted = {code.lower() for code in codes}
        kept = [i for i, code in detected.items() if code in wanted]
        assert ask("overview", codes)["messages"] == len(kept), codes
        assert {d["language"] for d in ask("language", codes)["detected"]} == (
            wanted & set(detected.values())
        )
        people = ask("people", codes)["people"]
        assert sum(p["messages"] for p in people) == len(kept)
    assert ask("overview", ["pt"])["messages"] == 6 and ask("overview", ["fr"])["messages"] == 0


def test_a_language_code_must_look_like_one():
    with pytest.raises(ValidationError):
        SearchFilters(language=["portuguese"])
    with pytest.raises(ValidationError):
        SearchFilters(language=["p'"])
    assert SearchFilters(language=["PT"]).empty is False
