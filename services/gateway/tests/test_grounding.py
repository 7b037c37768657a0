"""The grounding check: an answer's names, numbers, dates and places must be in what it cites."""

from __future__ import annotations

from datetime import datetime

import pytest

from chatlens.gateway.application.grounding import claims, ground, quote, support_of
from chatlens.shared import schemas

VENUE = "Booked the venue in Lisbon for the offsite, 12 to 14 March"


def message(
    text: str, sender: str = "Marta", when: datetime = datetime(2025, 2, 14, 10, 5), n: int = 1
) -> schemas.ChatMessage:
    return schemas.ChatMessage(
        message_id=f"m{n}",
        platform="whatsapp",
        chat="Team",
        sender=sender,
        sent_at=when,
        tz_assumption="UTC",
        text=text,
        seq=n,
        source_file="chat.txt",
    )


@pytest.mark.parametrize(
    "answer",
    [
        "The offsite is in Lisbon, 12 to 14 March [1].",
        "The offsite is in Lisbon from March 12-14 [1].",
        "It runs from the 12th to the 14th of March in Lisbon [1].",
        "Lisbon, on March 13 [1].",  # a day inside the range
        "Marta booked the venue in Lisbon in March [1].",  # the sender and a month the range names
    ],
)
def test_supported_answers_are_kept_as_written(answer):
    checked = ground(answer, "When and where is the offsite?", [message(VENUE)], [1])
    assert checked.text == answer and not checked.extractive and checked.cited == [1]
    assert checked.reason == "supported" and checked.unsupported == []


@pytest.mark.parametrize(
    "answer, claim",
    [
        ("The offsite is on March 26th [1].", "March 26th"),  # the demo's wrong date
        ("The offsite is in Porto [1].", "Porto"),  # a place the message does not name
        ("The offsite is in Lisbon, 15 to 17 March [1].", "15 to 17 March"),
        ("Lisbon, in April [1].", "April"),
        ("It was booked by Clara Ravensworth in Lisbon [1].", "Clara"),  # a name it does not name
        ("It is in Lisbon for 3 days [1].", "3"),
    ],
)
def test_an_unsupported_claim_falls_back_to_quoting_the_cited_message(answer, claim):
    checked = ground(answer, "When and where is the offsite?", [message(VENUE)], [1])
    assert checked.extractive and checked.reason == "unsupported_claims"
    assert claim in checked.unsupported
    assert checked.text == f"Marta wrote on 14 Feb 2025: '{VENUE}' [1]"
    assert checked.cited == [1]


@pytest.mark.parametrize(
    "said, answer",
    [
        ("The marketing budget is 45,000 euros.", "It is 45000 euros [1]."),
        ("The marketing budget is 45.000 euros.", "It is 45,000 euros [1]."),
        ("The standup moves to 09:45 every morning.", "The standup is at 9:45 [1]."),
        ("The keys are rotated every ninety days.", "They are rotated every 90 days [1]."),
        ("Version 3 launches on the 2nd of October.", "Version 3 launches on October 2 [1]."),
        ("The dinner is at Casa Nostra on Thursday.", "It is at Casa Nostra on Thursday [1]."),
        ("The migration is on 2025-05-14.", "The migration is on 14 May [1]."),
    ],
)
def test_normalisations_count_as_stated(said, answer):
    checked = ground(answer, "When is it?", [message(said)], [1])
    assert not checked.extractive, checked


def test_a_message_s_own_date_supports_a_date_only_when_its_text_names_no_day():
    said = message("Booked the venue in Lisbon for the offsite")
    assert not ground(
        "Marta booked Lisbon on 14 February 2025 [1].", "Who booked the venue?", [said], [1]
    ).extractive
    demo = message("The product demo for the board is on 21 June at 15:00 in room 4.")
    checked = ground("The demo is on 2025-02-14 at 10:05 [1].", "When is the demo?", [demo], [1])
    assert checked.extractive and checked.unsupported == ["2025-02-14", "10:05"]
    assert "21 June" in checked.text


def test_wrong_numbers_and_times_are_unsupported():
    cited = [message("The parking garage code is 7731, the standup is at 9:45.")]
    assert ground("The code is 7713 [1].", "What is the garage code?", cited, [1]).unsupported == [
        "7713"
    ]
    assert ground(
        "The standup is at 9:30 [1].", "When is the standup?", cited, [1]
    ).unsupported == ["9:30"]


def test_sources_that_disagree_are_said_and_both_cited():
    evidence = [
        message("The team offsite is in Porto this year", sender="Ann"),
        message("I heard the offsite is in Moscow", sender="Ivan", when=datetime(2025, 3, 3), n=2),
    ]
    checked = ground(
        "The team offsite is in Moscow [1].", "Where is the team offsite?", evidence, [1]
    )
    assert checked.extractive and checked.unsupported == ["Moscow"]
    assert checked.disagreements == [
        "Ann says Porto; another message (Ivan, 3 Mar) mentions Moscow"
    ]
    assert checked.text.startswith("Ann wrote on 14 Feb 2025: 'The team offsite is in Porto")
    assert "Sources disagree" in checked.text and checked.cited == [1, 2]


def test_only_messages_about_the_question_disagree_and_each_claim_once():
    evidence = [
        message("The summer party will be at the beach club in Cascais", n=1),
        message("Booked it: the offsite this year is in Lisbon", sender="Ann", n=2),
        message("I heard the summer party will be in Moscow", sender="Ivan", n=3),
    ]
    checked = ground(
        "The summer party is in Lisbon, then Moscow, then Moscow [2].",
        "Where is the summer party?",
        evidence,
        [2],
    )
    assert checked.extractive and checked.text.startswith(
        "Marta wrote on 14 Feb 2025: 'The summer party will be at the beach"
    )
    # Lisbon's message is not about the party: no disagreement is claimed for it.
    assert checked.disagreements == [
        "Marta says Cascais; another message (Ivan, 14 Feb) mentions Moscow"
    ]
    assert checked.cited == [1, 3]


def test_an_answer_a_retrieved_message_supports_is_kept_citing_that_message():
    evidence = [
        message("Heads up: our designer wants the mockups changed", sender="Sofia", n=1),
        message("Our new designer is Clara Ravensworth, she starts on Monday", n=2),
    ]
    checked = ground(
        "The new designer is Clara Ravensworth [1].", "Who is the new designer?", evidence, [1]
    )
    assert checked.text == "The new designer is Clara Ravensworth [2]."
    assert checked.cited == [2] and not checked.extractive and checked.reason == "recited"


def test_a_name_starting_the_answer_counts_when_a_retrieved_message_holds_it():
    evidence = [
        message("The team offsite is in Porto this year", sender="Ann"),
        message("I heard the offsite is in Moscow", sender="Ivan", n=2),
    ]
    assert ground("Moscow [1]", "Where is the team offsite?", evidence, [1]).unsupported == [
        "Moscow"
    ]
    # ... and sentence-initial words the retrieved messages do not hold are not names
    assert [c.text for c in claims("The offsite is in Porto.", {"porto"})] == ["Porto"]


def test_an_answer_that_says_nothing_the_messages_say_quotes_the_best_message():
    evidence = [message("Lunch is at noon", n=1), message(VENUE, n=2)]
    checked = ground("The messages do not say.", "Where is the offsite?", evidence, [1])
    assert checked.extractive and checked.reason == "no_information"
    assert checked.cited == [2] and "Lisbon" in checked.text


def test_nothing_to_quote_when_no_message_shares_a_word_with_the_question():
    checked = ground(
        "It is in Porto [1].", "Where is the offsite?", [message("Lunch at noon")], [1]
    )
    assert checked.extractive and checked.reason == "nothing_to_quote" and checked.cited == []
    assert "Porto" not in checked.text


def test_a_long_message_is_quoted_by_its_best_sentence():
    long = ("Morning all. " * 30) + "The offsite is in Lisbon this year. See you there."
    text = quote(message(long), "Where is the offsite?", 3)
    assert text == "Marta wrote on 14 Feb 2025: 'The offsite is in Lisbon this year.' [3]"


def test_the_question_s_own_words_are_not_claims_to_support():
    checked = ground(
        "Version 3 of the Acme app launches in October [1].",
        "When does version 3 of the Acme app launch?",
        [message("V3 launches on the 2nd of October")],
        [1],
    )
    assert not checked.extractive, checked


def test_claims_reads_dates_times_numbers_and_names():
    found = claims("On the 2nd of October at 9:45 Tomasz pays 45,000 euros, Tuesday [2].")
    assert [(c.kind, c.text) for c in found] == [
        ("date", "the 2nd of October"),
        ("date", "Tuesday"),
        ("number", "9:45"),
        ("number", "45,000"),
        ("name", "Tomasz"),
    ]
    support = support_of([message("Lisbon, March 12-14")], "")
    assert all(support.holds(c) for c in claims("in Lisbon from 12 to 14 March"))
