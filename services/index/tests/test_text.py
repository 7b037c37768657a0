"""Text analysis: Unicode words, case and accent folding, and the keyword query syntax."""

from __future__ import annotations

from chatlens.index.text import (
    KeywordQuery,
    contains_phrase,
    highlight_spans,
    parse_keyword_query,
    tokenize,
)


def test_words_are_unicode_words_folded_for_case_and_accents():
    assert tokenize("Booked the VENUE in São Paulo's café, Straße!") == [
        "booked",
        "the",
        "venue",
        "in",
        "sao",
        "paulo's",
        "cafe",
        "strasse",
    ]
    assert tokenize("Привет, Мир") == ["привет", "мир"]
    assert tokenize("invoice#42 costs 3.14") == ["invoice", "42", "costs", "3.14"]


def test_han_text_splits_per_character_without_a_dictionary():
    assert tokenize("東京に行った") == ["東", "京", "に", "行", "っ", "た"]


def test_a_query_has_terms_quoted_phrases_and_prefixes():
    query = parse_keyword_query('the "Lisbon offsite" invoi* "venue" a*')
    assert query.phrases == (("lisbon", "offsite"),)
    assert query.prefixes == ("invoi",)
    assert set(query.terms) == {"the", "venue", "a"}  # a one-letter prefix is only a word
    assert query.phrase_terms == ("lisbon", "offsite")


def test_an_unbalanced_quote_or_punctuation_only_query_parses_safely():
    assert parse_keyword_query('"lisbon offsite').terms == ("lisbon", "offsite")
    assert parse_keyword_query('?! *** ""').empty


def test_phrases_match_adjacent_words_in_order():
    tokens = tokenize("We booked the Lisbon offsite venue")
    assert contains_phrase(tokens, ("lisbon", "offsite"))
    assert not contains_phrase(tokens, ("offsite", "lisbon"))
    assert not contains_phrase(tokens, ("booked", "lisbon"))


def test_highlights_are_character_offsets_of_matched_words():
    text = "Invoices from São Paulo: the invoice total"
    spans = highlight_spans(text, parse_keyword_query('invoi* "sao paulo"'))
    assert [text[s:e] for s, e in spans] == ["Invoices", "São", "Paulo", "invoice"]
    assert highlight_spans(text, KeywordQuery()) == []
    # Words of a phrase are marked only where the whole phrase is.
    assert highlight_spans("paulo and sao", parse_keyword_query('"sao paulo"')) == []
