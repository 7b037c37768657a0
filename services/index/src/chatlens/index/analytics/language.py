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
    word_months: pa.Table  # month (DATE), word, n
    pairs: pa.Table  # a, b, n (n > 1)
    emoji: pa.Table  # emoji, n
    domains: pa.Table  # domain, n
    sentiment: dict
    detected: list[dict]


def tallies(frame: pa.Table, threads: int | None = None) -> Tallies:
    """Count the prepared ``frame`` (with ``storage.words``'s columns) once, in DuckDB."""
    with sql.connect(frame, 0, threads) as con:
        try:
            con.execute("""
                CREATE OR REPLACE TEMP VIEW said AS
                SELECT date_trunc('month', t)::DATE AS month, tokens, emoji_list, domains,
                       sentiment::DOUBLE AS sentiment
                FROM authored WHERE NOT coalesce(deleted, false) AND chars > 0""")
            word_months = con.execute("""
                SELECT month, w AS word, count(*)::BIGINT AS n
                FROM (SELECT month, unnest(tokens) AS w FROM said WHERE tokens IS NOT NULL)
                GROUP BY ALL""").to_arrow_table()
            pairs = con.execute("""
                SELECT a, b, count(*)::BIGINT AS n
                FROM (SELECT unnest(tokens[1:len(tokens) - 1]) AS a, unnest(tokens[2:]) AS b
                      FROM said WHERE len(tokens) > 1)
                GROUP BY ALL HAVING n > 1""").to_arrow_table()
            emoji = con.execute("""
                SELECT e AS emoji, count(*)::BIGINT AS n
                FROM (SELECT unnest(emoji_list) AS e FROM said WHERE emoji_list IS NOT NULL)
                GROUP BY ALL""").to_arrow_table()
            domains = con.execute("""
                SELECT d AS domain, count(*)::BIGINT AS n
                FROM (SELECT unnest(domains) AS d FROM said WHERE domains IS NOT NULL)
                GROUP BY ALL""").to_arrow_table()
            counted = sql.one(con, "SELECT count(*) AS n FROM said")
            mood = sentiment(con)
        finally:
            con.execute("DROP VIEW IF EXISTS said")
    with sql.over({"word_months": word_months}, threads) as con:
        words = con.execute(
            "SELECT word, sum(n)::BIGINT AS n FROM word_months GROUP BY 1"
        ).to_arrow_table()
    return Tallies(
        messages=counted["n"] if counted else 0,
        words=words,
        word_months=word_months,
        pairs=pairs,
        emoji=emoji,
        domains=domains,
        sentiment=mood,
        detected=languages_detected(frame),
    )


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
            SELECT strftime(month, '%Y-%m') AS month, word, n AS count FROM word_months
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


def sentiment(con) -> dict:
    """Over the connection's ``said``: the shares and the mean score per month."""
    months = sql.rows(
        con,
        """
        SELECT strftime(month, '%Y-%m') AS month, count(sentiment) AS messages,
               sum(sentiment) AS total, count(*) FILTER (sentiment >= 0.05) AS positive,
               count(*) FILTER (sentiment <= -0.05) AS negative
        FROM said WHERE sentiment IS NOT NULL GROUP BY 1 ORDER BY 1""",
    )
    n = sum(m["messages"] for m in months)
    positive = sum(m["positive"] for m in months)
    negative = sum(m["negative"] for m in months)
    return {
        "model": "vaderSentiment",
        "scored": n,
        "positive": positive / n if n else None,
        "negative": negative / n if n else None,
        "neutral": (n - positive - negative) / n if n else None,
        "months": [
            {"month": m["month"], "messages": m["messages"], "mean": m["total"] / m["messages"]}
            for m in months
        ],
    }
