"""Language-agnostic text analysis for keyword search: tokens, and the keyword query syntax.

Tokens are Unicode words (UAX #29 default word boundaries, from the ``regex`` module's WORD
flag), so Latin, Cyrillic, Greek, Arabic... split on spaces and punctuation, while Han and
Hiragana split per character, as the standard says, with no dictionary. Each token is case-folded
(``ß`` -> ``ss``) and stripped of accents (``São`` -> ``sao``), so a query typed without them
still matches. Indexing and querying go through the same function, which is what makes a match.

The query syntax: ``"quoted phrase"`` (the words must appear adjacent and in order) and
``prefix*`` (any word starting with it, e.g. ``invoi*``); every other word is an ordinary term.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import regex

# A word: from a UAX #29 boundary, at least one word character, to the next boundary.
_WORD = regex.compile(r"\b\w.*?\b", flags=regex.WORD)
_PHRASE = regex.compile(r'"([^"]*)"')
_PREFIX = regex.compile(r"(\w+)\*", flags=regex.WORD)
MIN_PREFIX = 2  # "a*" would name half the vocabulary


def normalise(word: str) -> str:
    """Case-fold and strip accents (combining marks after NFKD)."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def token_spans(text: str) -> list[tuple[str, int, int]]:
    """Each token with its (start, end) character offsets in ``text``."""
    return [(normalise(m.group()), m.start(), m.end()) for m in _WORD.finditer(text)]


def tokenize(text: str) -> list[str]:
    return [normalise(m.group()) for m in _WORD.finditer(text)]


@dataclass(frozen=True)
class KeywordQuery:
    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    prefixes: tuple[str, ...] = ()
    # Words the phrases consist of: scored like terms, so a phrase hit also ranks by BM25.
    phrase_terms: tuple[str, ...] = field(default=())

    @property
    def empty(self) -> bool:
        return not (self.terms or self.phrases or self.prefixes)


def parse_keyword_query(query: str) -> KeywordQuery:
    """Split a query into terms, quoted phrases and ``prefix*`` words (all normalised)."""
    phrases = []
    for match in _PHRASE.finditer(query):
        words = tuple(tokenize(match.group(1)))
        if len(words) > 1:
            phrases.append(words)
        elif words:  # a quoted single word is just a term
            query = query + " " + words[0]
    rest = _PHRASE.sub(" ", query).replace('"', " ")  # an unbalanced quote counts as a space
    prefixes = [normalise(m.group(1)) for m in _PREFIX.finditer(rest)]
    prefixes = [p for p in prefixes if len(p) >= MIN_PREFIX]
    rest = _PREFIX.sub(lambda m: m.group(1) if len(m.group(1)) < MIN_PREFIX else " ", rest)
    terms = tokenize(rest)
    phrase_terms = [w for phrase in phrases for w in phrase]
    return KeywordQuery(
        terms=tuple(dict.fromkeys(terms)),
        phrases=tuple(dict.fromkeys(phrases)),
        prefixes=tuple(dict.fromkeys(prefixes)),
        phrase_terms=tuple(dict.fromkeys(phrase_terms)),
    )


def contains_phrase(tokens: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(tokens[i : i + n]) == phrase for i in range(len(tokens) - n + 1))


def highlight_spans(
    text: str, query: KeywordQuery, unmarked: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Character (start, end) offsets of the words of ``text`` the query matches; a term in
    ``unmarked`` (a word as common as "the": ``ranking.common_terms``) only inside a phrase."""
    if query.empty:  # a semantic search: nothing to mark, and tokenising is not free
        return []
    spans = token_spans(text)
    words = [token for token, _, _ in spans]
    marked = [False] * len(spans)
    wanted = set(query.terms) - unmarked  # a phrase's words count only where the whole phrase is
    for i, word in enumerate(words):
        if word in wanted or any(word.startswith(p) for p in query.prefixes):
            marked[i] = True
    for phrase in query.phrases:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(words[i : i + n]) == phrase:
                marked[i : i + n] = [True] * n
    return [(start, end) for (_, start, end), on in zip(spans, marked, strict=True) if on]
