"""Language: the words, phrases, emoji and link domains people use, and sentiment over time.

Over every authored message of the selection that was not deleted and has text: exact counts,
from what each message's segment derived when it was written (``storage.words``: the tokens, the
emoji, the link domains and VADER's score; an older segment derives them when it is loaded).
:func:`tallies` counts them all with DuckDB once per prepared selection (a version, filters and
a zone: about the cost of preparing the frame), and :func:`language` answers each request from
those tallies, leaving out its languages' stop words and keeping its ``top``.

A *word* is a token of at least two characters with a letter among them that is not a stop word
of the requested languages (the ``stop-words`` package's lists). A *phrase* is two such words
next to each other in a message, seen more than once. Emoji are the ``emoji`` package's (a
family or a flag is one). A link's domain is its host without ``www.``. The first
``SERIES_WORDS`` words are also counted per month (their use over time).

Sentiment is VADER's (``vaderSentiment``; its lexicon ships in the package, English): the mean
compound score per month, and the shares of positive (>= 0.05), negative (<= -0.05) and neutral
messages, over every message read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import stop_words

from chatlens.index.analytics import sql
from chatlens.index.analytics.prepared import names
from chatlens.index.storage import words as words_columns

# Stop words of these languages when a request names none (ISO 639-1).
DEFAULT_LANGUAGES = ("en", "pt", "es", "fr", "de", "it", "nl")
# The top words whose use per month is given (``words_by_month``).
SERIES_WORDS = 5
# A word that counts: two characters or more, a letter among them, not a stop word.
_CONTENT = (
    "(length({w}) >= 2 AND regexp_matches({w}, '\\p{{L}}') AND {w} NOT IN (SELECT word FROM stop))"
)


def language_codes() -> dict[str, str]:
    """ISO 639-1 code -> the ``stop-words`` package's language name."""
    return dict(stop_words.LANGUAGE_MAPPING)


@cache
def stop_list(languages: tuple[str, ...]) -> tuple[str, ...]:
    """The union of the languages' stop words, lower-cased."""
    words: set[str] = set()
    for code in languages:
        words.update(w.lower() for w in stop_words.get_stop_words(code))
    return tuple(sorted(words))


def languages_detected(frame: pa.Table) -> list[dict]:
    """Authored, undeleted messages with text per language detected at ingest, most first
    (null: too short or unclear, or a segment from before the column; last of its count).
    Counted over the whole selection in NumPy (dictionary codes, no row as a Python value)."""
    authored = pc.is_valid(frame["rank"]).to_numpy(zero_copy_only=False)
    deleted = frame["deleted"].fill_null(False).to_numpy(zero_copy_only=False)
    texted = authored & ~deleted & (frame["chars"].fill_null(0).to_numpy() > 0)
    codes, named = names(frame["language"])
    counts: Counter = Counter()
    for code, n in enumerate(np.bincount(codes[texted] + 1, minlength=len(named) + 1).tolist()):
        if n:
            counts[None if code == 0 else named[code - 1]] += n
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] is None, item[0] or ""))
    return [{"language": code, "messages": n} for code, n in ordered]


@dataclass(frozen=True)
class Tallies:
    """Everything the language report counts in one prepared selection, before a request's stop
    words and ``top``: every token per month, every pair of tokens next to each other seen more
    than once, every emoji and domain, and the sentiment per month."""

    messages: int  # the messages read: authored, not deleted, with text
    words: pa.Table  # word, n
    word_months: pa.Table  # month ("YYYY-MM"), word, n
    pairs: pa.Table  # a, b, n (n > 1)
    emoji: pa.Table  # emoji, n
    domains: pa.Table  # domain, n
    sentiment: dict
    detected: list[dict]


def tallies(frame: pa.Table, threads: int | None = None) -> Tallies:
    """Count the prepared ``frame`` (with ``storage.words``'s columns) once. The tokens are
    counted as integers: the selection's tokens dictionary-encoded once (Arrow), then a
    ``bincount`` per (month, word) and the neighbouring pairs as one integer key each, grouped in
    DuckDB (grouping the strings themselves cost about three times as much at a million)."""
    authored = pc.is_valid(frame["rank"]).to_numpy(zero_copy_only=False)
    deleted = frame["deleted"].fill_null(False).to_numpy(zero_copy_only=False)
    said_rows = authored & ~deleted & (frame["chars"].fill_null(0).to_numpy() > 0)
    said = frame.select(["t", *words_columns.FIELDS]).filter(pa.array(said_rows))
    # Months as numbers (year * 12 + month - 1) of the local time, one per message read.
    years = pc.year(said["t"]).to_numpy(zero_copy_only=False).astype(np.int64)
    month = years * 12 + pc.month(said["t"]).to_numpy(zero_copy_only=False).astype(np.int64) - 1
    lengths = pc.list_value_length(said["tokens"]).fill_null(0).to_numpy(zero_copy_only=False)
    flat = pc.list_flatten(said["tokens"])
    encoded = flat.combine_chunks() if flat.num_chunks else pa.array([], pa.string())
    encoded = encoded.dictionary_encode()
    vocabulary, codes = encoded.dictionary, encoded.indices.to_numpy().astype(np.int64)
    size = max(len(vocabulary), 1)
    row = np.repeat(np.arange(said.num_rows), lengths)  # each token's message
    first = int(month.min()) if month.size else 0
    spans = (int(month.max()) - first + 1) if month.size else 1
    per_month = np.bincount((month[row] - first) * size + codes, minlength=spans * size)
    cells = np.flatnonzero(per_month)
    labels = [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, first + spans)]
    word_months = pa.table(
        {
            "month": pa.array(labels, pa.string()).take(pa.array(cells // size)),
            "word": vocabulary.take(pa.array(cells % size)),
            "n": pa.array(per_month[cells], pa.int64()),
        }
    )
    totals = np.bincount(codes, minlength=size)
    seen = np.flatnonzero(totals)
    words = pa.table({"word": vocabulary.take(pa.array(seen)), "n": pa.array(totals[seen])})
    # Neighbours: a token and the next one of the same message.
    same = row[1:] == row[:-1]
    keys = pa.table({"k": codes[:-1][same] * size + codes[1:][same]})
    with sql.over({"keys": keys}, threads) as con:
        repeated = con.execute(
            "SELECT k, count(*)::BIGINT AS n FROM keys GROUP BY k HAVING n > 1"
        ).to_arrow_table()
    pair_keys = repeated["k"].to_numpy()
    pairs = pa.table(
        {
            "a": vocabulary.take(pa.array(pair_keys // size)),
            "b": vocabulary.take(pa.array(pair_keys % size)),
            "n": repeated["n"],
        }
    )
    return Tallies(
        messages=said.num_rows,
        words=words,
        word_months=word_months,
        pairs=pairs,
        emoji=value_counts(said["emoji_list"], "emoji"),
        domains=value_counts(said["domains"], "domain"),
        sentiment=sentiment(said["sentiment"], month, labels, first),
        detected=languages_detected(frame),
    )


def value_counts(lists: pa.ChunkedArray, name: str) -> pa.Table:
    """How often each value of a list column occurs: ``name``, ``n``."""
    counted = pc.value_counts(pc.list_flatten(lists))
    return pa.table({name: counted.field("values"), "n": counted.field("counts").cast(pa.int64())})


def language(counted: Tallies, top: int, languages: list[str], threads: int | None = None) -> dict:
    """Top ``top`` words, phrases, emoji and domains, and sentiment by month, of ``counted``,
    without the stop words of ``languages`` (``DEFAULT_LANGUAGES`` when empty)."""
    codes = tuple(sorted(set(languages))) or DEFAULT_LANGUAGES
    unknown = [code for code in codes if code not in language_codes()]
    if unknown:
        raise ValueError(f"no stop words for {', '.join(unknown)}")
    stop = pa.table({"word": pa.array(stop_list(codes), pa.string())})
    tables = {
        "stop": stop,
        "word_counts": counted.words,
        "word_months": counted.word_months,
        "pairs": counted.pairs,
        "emoji_counts": counted.emoji,
        "domain_counts": counted.domains,
    }
    limit = int(top)
    with sql.over(tables, threads) as con:
        words = sql.rows(
            con,
            f"""
            SELECT word, n AS count FROM word_counts WHERE {_CONTENT.format(w="word")}
            ORDER BY 2 DESC, 1 LIMIT {limit}""",
        )
        # The busiest words' use over time: their occurrences per month.
        shown = [w["word"] for w in words[:SERIES_WORDS]]
        series = sql.rows(
            con,
            """
            SELECT month, word, n AS count FROM word_months
            WHERE list_contains(?, word) ORDER BY 1, 2""",
            [shown],
        )
        phrases = sql.rows(
            con,
            f"""
            SELECT a || ' ' || b AS phrase, n AS count FROM pairs
            WHERE {_CONTENT.format(w="a")} AND {_CONTENT.format(w="b")}
            ORDER BY 2 DESC, 1 LIMIT {limit}""",
        )
        emoji = sql.rows(
            con, f"SELECT emoji, n AS count FROM emoji_counts ORDER BY 2 DESC, 1 LIMIT {limit}"
        )
        domains = sql.rows(
            con, f"SELECT domain, n AS count FROM domain_counts ORDER BY 2 DESC, 1 LIMIT {limit}"
        )
    return {
        "languages": list(codes),
        "messages": counted.messages,
        "words": words,
        "words_by_month": series,
        "phrases": phrases,
        "emoji": emoji,
        "domains": domains,
        "sentiment": counted.sentiment,
        "detected": counted.detected,
    }


def sentiment(scores: pa.ChunkedArray, month: np.ndarray, labels: list[str], first: int) -> dict:
    """The shares of positive, negative and neutral ``scores`` and their mean per month
    (``month``: each score's month number, ``labels[month - first]`` its name)."""
    scored = pc.is_valid(scores).to_numpy(zero_copy_only=False)
    values = scores.fill_null(0).to_numpy().astype(np.float64)[scored]
    at = month[scored] - first
    n = int(values.size)
    messages = np.bincount(at, minlength=len(labels))
    total = np.bincount(at, weights=values, minlength=len(labels))
    positive, negative = int((values >= 0.05).sum()), int((values <= -0.05).sum())
    return {
        "model": "vaderSentiment",
        "scored": n,
        "positive": positive / n if n else None,
        "negative": negative / n if n else None,
        "neutral": (n - positive - negative) / n if n else None,
        "months": [
            {
                "month": labels[i],
                "messages": int(messages[i]),
                "mean": float(total[i] / messages[i]),
            }
            for i in np.flatnonzero(messages).tolist()
        ],
    }
