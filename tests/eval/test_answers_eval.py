"""Answers on planted facts (``eval/answers.py``, reported by ``make eval``): the real SmolLM2
answers planted questions over a small planted chat, and what ``/ask`` would return states the
planted fact, cites the planted message, and claims nothing its citations do not state."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from chatlens.gateway.application import grounding
from chatlens.shared.testing import slow_model

EVAL = Path(__file__).resolve().parents[2] / "eval"
sys.path.insert(0, str(EVAL))

import answers  # noqa: E402
import harness  # noqa: E402

# One question of each set: a place (the bench's) and a date (held out).
QUESTIONS = [answers.PLANTED[0], answers.HELD_OUT[2]]


def test_the_sets_are_distinct_and_each_fact_is_in_its_planted_message():
    facts = [(q, fact, planted) for s in answers.SETS.values() for q, fact, planted in s]
    assert len(answers.HELD_OUT) >= 10 and len(answers.PLANTED) >= 10
    assert len({planted for _, _, planted in facts}) == len(facts)
    for _, fact, planted in facts:
        assert fact in planted.lower(), (fact, planted)


@pytest.fixture(scope="module")
def answerer(tmp_path_factory):
    slow_model("answers with SmolLM2")
    folder = tmp_path_factory.mktemp("answers")
    chat = answers.planted_corpus(folder / "WhatsApp Chat with Planted.txt", filler=150)
    planted = {p: {"text": p} for s in answers.SETS.values() for _, _, p in s}
    corpus = harness.ingest([chat], planted, folder / "index")
    return answers.Answerer(corpus), corpus.planted_ids


@pytest.mark.parametrize("question, fact, planted", QUESTIONS)
def test_a_planted_question_is_answered_with_its_fact_and_citation(
    answerer, question, fact, planted
):
    path, planted_ids = answerer
    answered = path.ask(question, fact, planted_ids[planted])
    print(answered)
    assert answered.fact_in(answered.grounded.text), answered
    assert answered.cites_planted, answered
    # Whatever the model wrote, what is returned claims nothing its citations do not state.
    assert answered.grounded.text != answered.raw or not answered.raw_unsupported
    kept = answered.grounded.reason in ("supported", "recited")
    assert answered.grounded.extractive == (not kept)


def test_the_report_counts_what_the_answers_say():
    checked = grounding.Grounded(
        "Renata wrote on 1 Mar 2025: 'x' [1]", [1], True, ["Porto"], [], "unsupported_claims"
    )
    one = answers.Answered(
        "Where?", "lisbon", "It is in Porto [1].", True, ["Porto"], checked, True
    )
    assert not one.fact_in(one.raw) and not one.fact_in("Lisbonese") and one.fact_in("LISBON.")
