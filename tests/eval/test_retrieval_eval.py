"""The retrieval evaluation (``make eval``) keeps working: its set is what its generator writes,
and its machinery, run on a slice of the set (one chat), still finds what is planted there."""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import pytest

EVAL = Path(__file__).resolve().parents[2] / "eval"
sys.path.insert(0, str(EVAL))

import generate  # noqa: E402
import harness  # noqa: E402

SLICE_CHAT = "Flat 4B"  # a WhatsApp export of ~500 messages, 10 planted ones, 13 queries
# A quality floor, not a timing: hybrid found 11 of the 13 in its top 10 (0.85) when this was
# written; the floor allows two more misses, and a broken pipeline finds next to nothing.
HYBRID_RECALL_AT_10_FLOOR = 0.65


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_committed_set_is_what_the_generator_writes():
    for name, data in generate.build().items():
        committed = (EVAL / name).read_bytes()
        if name.endswith(".zip"):  # compressed bytes may differ between zlib builds
            assert _entries(committed) == _entries(data), name
        else:
            assert committed == data, name


def test_every_query_names_planted_messages_and_both_halves_are_used():
    labels = harness.load_labels()
    for query in labels["queries"]:
        assert query["finds"] and set(query["finds"]) <= set(labels["planted"]), query
    tune, held_out = harness.split(labels["queries"])
    assert len(labels["queries"]) >= 40 and abs(len(tune) - len(held_out)) <= 1


@pytest.fixture(scope="module")
def sliced(tmp_path_factory):
    labels = harness.load_labels()
    planted = {key: spec for key, spec in labels["planted"].items() if spec["chat"] == SLICE_CHAT}
    queries = [q for q in labels["queries"] if set(q["finds"]) <= set(planted)]
    files = [EVAL / "corpus" / f"WhatsApp Chat with {SLICE_CHAT}.txt"]
    corpus = harness.ingest(files, planted, tmp_path_factory.mktemp("eval") / "index")
    return corpus, queries


def test_hybrid_search_finds_the_planted_messages_of_a_slice(sliced):
    corpus, queries = sliced
    assert len(queries) >= 5
    figures = {
        mode: harness.metrics(harness.run_queries(corpus, queries, mode)) for mode in harness.MODES
    }
    print(figures)
    assert figures["hybrid"]["recall@10"] >= HYBRID_RECALL_AT_10_FLOOR, figures
    for mode in harness.MODES:
        assert 0 <= figures[mode]["recall@1"] <= figures[mode]["recall@10"] <= 1
        assert figures[mode]["recall@1"] <= figures[mode]["mrr"] <= figures[mode]["recall@10"]


def test_fusion_settings_are_restored_after_a_variant(sliced):
    corpus, queries = sliced
    before = [o.rank for o in harness.run_queries(corpus, queries, "hybrid")]
    with harness.fusion(k=1, weights=(0.0, 1.0), min_coverage=0.0, depth=11):
        harness.run_queries(corpus, queries, "hybrid")
    assert [o.rank for o in harness.run_queries(corpus, queries, "hybrid")] == before


DEMO = EVAL.parent / "samples" / "whatsapp-demo.txt"
DEMO_PLANTED = "Booked the venue in Lisbon for the offsite"
# The lead the demo's paraphrase keeps over the next message in semantic search (a quality
# floor, not a timing). Without the hubness correction it is 0.078 (torch); with the correction
# at BETA 0.2 it is 0.062, and at 0.7 (the first setting, chosen on the labelled set) 0.024:
# small enough that the int8 embeddings of CI's machine put "Reminder: team retro" first and
# three end-to-end tests failed. A topic a chat keeps coming back to is dense with neighbours,
# so its messages have high hubness: the correction must not outweigh what the question says.
DEMO_LEAD_FLOOR = 0.05


def test_the_hubness_correction_keeps_the_demo_paraphrases_lead(tmp_path):
    corpus = harness.ingest([DEMO], {}, tmp_path / "index")
    query = "when is the team trip to Portugal?"
    hits = harness.search_hits(corpus, query, "semantic", k=2)
    first, second = hits
    assert DEMO_PLANTED in first.message.text, [h.message.text for h in hits]
    assert first.score - second.score >= DEMO_LEAD_FLOOR, (first.score, second.score)
