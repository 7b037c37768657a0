"""Keyword (BM25 with global idf) and hybrid search, filters inside the search, pages."""

from __future__ import annotations

import math
from datetime import timedelta

import hubness_reference
import numpy as np
import pytest

from chatlens.index import ranking
from chatlens.index.keyword import MATRIX, VOCAB
from chatlens.index.storage.collection import Collection
from chatlens.index.text import tokenize
from chatlens.shared.bus import PermanentError
from chatlens.shared.schemas import SearchFilters, SearchRequested

from .conftest import T0

K1, B = 1.5, 0.75


def ids(answer) -> list[str]:
    return [hit.message.message_id for hit in answer.hits]


def ask(searcher, **fields) -> SearchRequested:
    base = {"org_id": "org1", "collection_id": "coll1", "mode": "keyword", "context": 0}
    return searcher.search(SearchRequested(**{**base, **fields}))


def reference_bm25(segment_docs: list[list[list[str]]], terms: list[str]) -> list[list[float]]:
    """BM25 (Lucene flavour, as bm25s) with idf over all segments and avglen per segment."""
    total = sum(len(docs) for docs in segment_docs)
    out = []
    for docs in segment_docs:
        avglen = sum(map(len, docs)) / len(docs)
        scores = []
        for doc in docs:
            score = 0.0
            for term in set(terms):
                df = sum(1 for seg in segment_docs for d in seg if term in d)
                tf = doc.count(term)
                if not df or not tf:
                    continue
                idf = math.log(1 + (total - df + 0.5) / (df + 0.5))
                score += idf * tf / (tf + K1 * (1 - B + B * len(doc) / avglen))
            scores.append(score)
        out.append(scores)
    return out


TEXTS_A = [
    "the invoice from Sam is late",
    "lunch at noon",
    "Sam paid the invoice invoice",
    "the offsite in Lisbon",
    "no words in common here",
]
TEXTS_B = [
    "invoice",
    "Lisbon offsite booked near Alfama",
    "lunch lunch lunch",
    "Sam says the offsite venue in Lisbon is booked",
]


@pytest.fixture
def two_segments(make_text_job, run_messages):
    run_messages(make_text_job("ja", TEXTS_A).all_messages())
    run_messages(make_text_job("jb", TEXTS_B, seed=1, first_seq=100).all_messages())


def test_keyword_scores_are_bm25_with_idf_over_all_live_segments(two_segments, searcher):
    answer = ask(searcher, query="Sam invoice lisbon", k=20)
    docs = [[tokenize(t) for t in TEXTS_A], [tokenize(t) for t in TEXTS_B]]
    expected = reference_bm25(docs, ["sam", "invoice", "lisbon"])
    want = sorted(
        (
            (s, f"j{'ab'[g]}-{n}")
            for g, seg in enumerate(expected)
            for n, s in enumerate(seg)
            if s > 0
        ),
        key=lambda x: (-x[0], x[1]),
    )
    assert sorted(ids(answer)) == sorted(mid for _, mid in want)
    got = {hit.message.message_id: hit.score for hit in answer.hits}
    for score, mid in want:
        assert got[mid] == pytest.approx(score, rel=1e-4), mid
    assert [h.score for h in answer.hits] == sorted((h.score for h in answer.hits), reverse=True)


def test_the_bm25_files_sit_next_to_the_faiss_index(two_segments, layout):
    folder = Collection(layout.collection("org1", "coll1")).segment_path("job-ja")
    assert (folder / MATRIX).is_file() and (folder / VOCAB).is_file()
    assert (folder / "vectors.faiss").is_file()


def test_a_quoted_phrase_must_appear_as_written(two_segments, searcher):
    assert ids(ask(searcher, query='"Lisbon offsite"')) == ["jb-1"]
    assert set(ids(ask(searcher, query='"offsite in lisbon"'))) == {"ja-3"}
    assert ids(ask(searcher, query='"offsite Sam"')) == []


def test_a_prefix_matches_every_word_that_starts_with_it(make_text_job, run_messages, searcher):
    run_messages(
        make_text_job(
            "j", ["Invoices are due", "the invoice", "invoking spirits", "nothing"]
        ).all_messages()
    )
    assert set(ids(ask(searcher, query="invoi*"))) == {"j-0", "j-1"}
    assert set(ids(ask(searcher, query="inv*"))) == {"j-0", "j-1", "j-2"}


def test_accents_and_case_do_not_matter(make_text_job, run_messages, searcher):
    run_messages(make_text_job("j", ["Reunião em SÃO PAULO", "meeting"]).all_messages())
    assert ids(ask(searcher, query="reuniao sao paulo")) == ["j-0"]


def test_a_keyword_query_without_words_is_refused(two_segments, searcher):
    with pytest.raises(PermanentError) as refused:
        ask(searcher, query="?!")
    assert refused.value.code == "empty_query"


def test_hits_carry_highlights_and_their_modes_scores(two_segments, searcher):
    [hit] = ask(searcher, query='"lisbon offsite"').hits
    assert [hit.message.text[s:e] for s, e in hit.highlights] == ["Lisbon", "offsite"]
    assert hit.keyword_score is not None and hit.semantic_score is None


# --- filters -------------------------------------------------------------------------------


def rich_job(make_text_job, job_id: str, n: int, seed: int, first_seq: int = 0):
    rows = []
    for i in range(n):
        rows.append(
            {
                "text": f"status update number {i} about the budget",
                "chat": ["general", "random", "ops"][i % 3],
                "sender": ["Marta", "Sam", "Priya", "Tom"][i % 4],
                "sender_id": f"u{i % 4}",
                "platform": ["slack", "whatsapp"][i % 2],
                "kind": "media" if i % 5 == 0 else "text",
                "sent_at": T0 + timedelta(hours=first_seq + i),
            }
        )
    return make_text_job(job_id, rows, seed=seed, first_seq=first_seq)


FILTERS = [
    SearchFilters(chat=["General"]),
    SearchFilters(sender=["marta", "u1"]),
    SearchFilters(platform=["whatsapp"], kind=["media"]),
    SearchFilters(since=T0 + timedelta(hours=30), until=T0 + timedelta(hours=90)),
    SearchFilters(chat=["ops"], sender=["Tom"], since=T0 + timedelta(hours=5)),
    SearchFilters(chat=["nowhere"]),
]


def passes(message, f: SearchFilters) -> bool:
    return (
        (not f.chat or message.chat.lower() in [c.lower() for c in f.chat])
        and (
            not f.sender
            or message.sender.lower() in [s.lower() for s in f.sender]
            or message.sender_id in f.sender
        )
        and (not f.platform or message.platform in f.platform)
        and (not f.kind or message.kind in f.kind)
        and (f.since is None or message.sent_at >= f.since)
        and (f.until is None or message.sent_at < f.until)
    )


@pytest.mark.parametrize("filters", FILTERS)
def test_a_filtered_semantic_search_is_the_exact_top_k_of_the_passing_messages_less_hubness(
    make_text_job, run_messages, searcher, filters
):
    jobs = [
        rich_job(make_text_job, "ja", 60, seed=1),
        rich_job(make_text_job, "jb", 50, seed=2, first_seq=60),
    ]
    for job in jobs:
        run_messages(job.all_messages())
    # Each job is a segment; hubness counts every row of it, filtered out or not.
    segments = []
    for job in jobs:
        hub = dict(
            zip(
                job.vectors,
                hubness_reference.hubness(np.stack(list(job.vectors.values()))),
                strict=True,
            )
        )
        passing = [m.message_id for m in job.messages if passes(m, filters)]
        if passing:
            rows = np.stack([job.vectors[mid] for mid in passing])
            segments.append((passing, rows, np.array([hub[mid] for mid in passing])))
    rng = np.random.default_rng(5)
    for _ in range(5):
        query = rng.standard_normal(16).astype(np.float32)
        unit = query / np.linalg.norm(query)
        best = hubness_reference.ranked(segments, unit, 7)
        answer = ask(searcher, mode="semantic", vector=query.tolist(), k=7, filters=filters)
        assert ids(answer) == [mid for mid, _ in best]


@pytest.mark.parametrize("filters", FILTERS)
def test_a_filtered_keyword_search_finds_every_passing_match(
    make_text_job, run_messages, searcher, filters
):
    job = rich_job(make_text_job, "ja", 60, seed=1)
    run_messages(job.all_messages())
    answer = ask(searcher, query="budget", k=100, filters=filters)
    assert sorted(ids(answer)) == sorted(m.message_id for m in job.messages if passes(m, filters))


# --- hybrid and pages ------------------------------------------------------------------------


def test_hybrid_fuses_ranks_so_a_message_good_in_both_modes_wins(
    make_text_job, run_messages, searcher
):
    job = make_text_job(
        "j",
        [
            "the Lisbon offsite venue is booked",
            "lisbon lisbon lisbon",
            "completely unrelated",
            "something else entirely",
        ],
    )
    run_messages(job.all_messages())
    # Semantically nearest is j-0 (its own vector), keyword best is j-1: j-0 is high in both.
    near = job.vectors["j-0"] + 0.3 * job.vectors["j-2"]
    semantic = ask(searcher, mode="semantic", vector=near.tolist(), k=4)
    keyword = ask(searcher, query="lisbon venue booked", k=4)
    hybrid = ask(searcher, mode="hybrid", vector=near.tolist(), query="lisbon venue booked", k=4)
    assert ids(semantic)[0] == "j-0" and ids(keyword)[0] == "j-0"
    assert ids(hybrid)[0] == "j-0"
    assert set(ids(hybrid)) == set(ids(semantic)) | set(ids(keyword))
    top = hybrid.hits[0]
    assert top.score == pytest.approx(sum(ranking.RRF_WEIGHTS) / (ranking.RRF_K + 1))
    assert top.semantic_score is not None and top.keyword_score is not None


def test_hybrid_without_keywords_is_the_semantic_ranking(two_segments, searcher):
    vector = np.ones(16).tolist()
    semantic = ask(searcher, mode="semantic", vector=vector, k=5)
    hybrid = ask(searcher, mode="hybrid", vector=vector, query="!!", k=5)
    assert ids(hybrid) == ids(semantic)


def test_semantic_and_hybrid_need_a_vector(two_segments, searcher):
    for mode in ("semantic", "hybrid"):
        with pytest.raises(PermanentError) as refused:
            ask(searcher, mode=mode, query="lisbon")
        assert refused.value.code == "invalid_vector"


@pytest.mark.parametrize("mode", ["semantic", "keyword", "hybrid"])
def test_pages_follow_each_other_without_gaps_or_repeats(
    make_text_job, run_messages, searcher, mode
):
    job = rich_job(make_text_job, "ja", 23, seed=3)
    run_messages(job.all_messages())
    fields = {"mode": mode, "query": "budget update", "vector": np.ones(16).tolist()}
    whole = ask(searcher, **fields, k=100)
    pages, offset = [], 0
    while offset is not None:
        answer = ask(searcher, **fields, k=5, offset=offset)
        pages.extend(ids(answer))
        offset = answer.next_offset
    assert pages == ids(whole) and len(pages) == 23
    assert whole.next_offset is None


def test_hybrid_lets_keywords_vote_only_for_messages_matching_enough_of_the_query(
    make_text_job, run_messages, searcher
):
    rows = [
        "Reminder: team retro today",
        "the team lunch",
        "team photos are up",
        "Booked the venue in Lisbon for the offsite",
        "Lisbon offsite agenda",
    ]
    job = make_text_job("j", rows + [f"filler message {i} about the weather" for i in range(20)])
    run_messages(job.all_messages())
    question = "when is the team trip to Portugal?"
    vector = job.vectors["j-3"].tolist()  # the paraphrase's meaning is the booked venue
    # Keyword mode alone ranks every message sharing "team" or "the" ...
    assert ids(ask(searcher, query=question, k=3))[0] in {"j-0", "j-1", "j-2"}
    # ... but in hybrid those matches carry too little of the question to vote.
    hybrid = ask(searcher, mode="hybrid", vector=vector, query=question, k=3)
    assert ids(hybrid)[0] == "j-3" and hybrid.hits[0].keyword_score is None
    # Rare words of the query still count: "lisbon offsite" matches two messages well.
    both = ask(searcher, mode="hybrid", vector=vector, query="the Lisbon offsite venue?", k=3)
    assert ids(both)[0] == "j-3" and both.hits[0].keyword_score is not None
    assert "j-4" in ids(both)


def test_words_as_common_as_the_are_not_highlighted_beside_rarer_ones(
    make_text_job, run_messages, searcher
):
    # 24 messages: "the" in 20 of them (83 %), "in" in 6 (25 %), "lisbon" in 2 (8 %).
    texts = [f"the note number {n}" for n in range(16)] + [
        "the offsite in Lisbon",
        "in Lisbon again",
        "the plan in May",
        "the budget in June",
        "in a minute",
        "in the morning",
        "lunch",
        "coffee",
    ]
    run_messages(make_text_job("jc", texts).all_messages())
    [first, second] = ask(searcher, query="the offsite in lisbon", k=2).hits

    def marked(hit):
        return [hit.message.text[s:e] for s, e in hit.highlights]

    assert marked(first) == ["offsite", "Lisbon"]
    assert marked(second) == ["Lisbon"]
    # Common words alone are still shown; and inside a quoted phrase they are part of it.
    assert marked(ask(searcher, query="the in", k=1).hits[0]) in (["the", "in"], ["in", "the"])
    assert marked(ask(searcher, query='"in Lisbon" the', k=1).hits[0]) == ["in", "Lisbon"]
    # A hit found by a common word alone shows that word rather than nothing ...
    everything = ask(searcher, query="the offsite in lisbon", k=24).hits
    by_text = {hit.message.text: marked(hit) for hit in everything}
    assert by_text["in a minute"] == ["in"]
    assert by_text["the plan in May"] == ["the", "in"]
    # ... while beside a rarer word it stays unmarked.
    assert by_text["in Lisbon again"] == ["Lisbon"]
