"""Language: the words, phrases, emoji and link domains people use, and sentiment over time.

Over authored messages that were not deleted and have text, at most ``LANGUAGE_SAMPLE``
(``analytics.prepared``) of them: when the selection has more, a fixed sample picked by a hash of
their ids (``prepared.sampled``: the same sample for the same version and filters), and
``sample`` says how many were read of how many (``messages``, ``of``). Every count is exact over
the messages read. Tokenising is the cost (about 8 µs a message in DuckDB's regular expressions,
and Python for emoji and sentiment): a sample bounds a million messages to about a second of CPU,
where reading them all took tens of seconds; counts kept per segment when it is sealed could not
follow the filters, the zone's months or the requested stop words.

A *word* is a run of letters and digits (inner apostrophes kept: "don't"), lower-cased, at least
two characters with a letter among them, links taken out first, and not a stop word of the
requested languages (the ``stop-words`` package's lists). A *phrase* is two such words next to
each other in a message. Emoji are the ``emoji`` package's (a family or a flag is one). A link's
domain is its host without ``www.``. The first ``SERIES_WORDS`` words are also counted per month
(their use over time).

Sentiment is VADER's (``vaderSentiment``; its lexicon ships in the package, English): the mean
compound score per month, and the shares of positive (>= 0.05), negative (<= -0.05) and neutral
messages, over a sample of at most ``SENTIMENT_SAMPLE`` messages picked by a hash of their ids (the
same sample for the same version and filters, taken from the words' sample); the answer says how
many were scored.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from functools import cache

import duckdb
import emoji
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import regex
import stop_words
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from chatlens.index.analytics.prepared import names
from chatlens.index.analytics.sql import rows

# Stop words of these languages when a request names none (ISO 639-1).
DEFAULT_LANGUAGES = ("en", "pt", "es", "fr", "de", "it", "nl")
SENTIMENT_SAMPLE = 5000
# The top words whose use per month is given (``words_by_month``).
SERIES_WORDS = 5
# RE2 syntax (DuckDB): links out, then words.
_LINK = r"(?i)\b(?:https?://|www\.)\S*"
_WORD = r"[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*"
_TOKENS = (
    f"regexp_extract_all(lower(regexp_replace(text, '{_LINK}', ' ', 'g')), "
    f"'{_WORD.replace(chr(39), chr(39) * 2)}')"
)  # a quote in SQL is doubled
# A word that counts: two characters or more, a letter among them, not a stop word.
_CONTENT = (
    "(length({w}) >= 2 AND regexp_matches({w}, '\\p{{L}}') AND {w} NOT IN (SELECT word FROM stop))"
)
_DOMAINS = r"regexp_extract_all(lower(text), '\b(?:https?://|www\.)([^\s/?#:]+)', 1)"


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


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads its lexicon from the package once


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


def language(
    con: duckdb.DuckDBPyConnection, frame: pa.Table, top: int, languages: list[str]
) -> dict:
    """Top ``top`` words, phrases, emoji and domains, and sentiment by month, over the prepared
    ``frame`` (the connection's ``m``)."""
    codes = tuple(sorted(set(languages))) or DEFAULT_LANGUAGES
    unknown = [code for code in codes if code not in language_codes()]
    if unknown:
        raise ValueError(f"no stop words for {', '.join(unknown)}")
    # The messages read: all of them, or the sample (``prepared.sampled``), picked out of the
    # frame in Arrow (a SQL scan of a million rows cost more than the 20,000 it kept).
    said = frame.select(["t", "text", "link", "emojis", "message_id"]).filter(frame["sampled"])
    con.register("stop", pa.table({"word": pa.array(stop_list(codes), pa.string())}))
    con.register("said", said)
    try:
        detected = languages_detected(frame)
        total, read = sum(d["messages"] for d in detected), said.num_rows
        # Tokenised once; counted before the stop words are taken out (a few thousand distinct
        # words and pairs to check instead of every occurrence).
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE tokens AS
            SELECT strftime(t, '%Y-%m') AS month, {_TOKENS} AS words FROM said""")
        words = rows(
            con,
            f"""
            SELECT w AS word, n AS count
            FROM (SELECT w, count(*) AS n FROM (SELECT unnest(words) AS w FROM tokens) GROUP BY 1)
            WHERE {_CONTENT.format(w="w")} ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
        )
        # The busiest words' use over time: messages' words per month, for the first few.
        shown = [w["word"] for w in words[:SERIES_WORDS]]
        series = (
            rows(
                con,
                """
            SELECT month, w AS word, count(*) AS count
            FROM (SELECT month, unnest(words) AS w FROM tokens)
            WHERE list_contains(?, w) GROUP BY 1, 2 ORDER BY 1, 2""",
                [shown],
            )
            if shown
            else []
        )
        phrases = rows(
            con,
            f"""
            WITH pairs AS (SELECT words[i] AS a, words[i + 1] AS b
                           FROM (SELECT words, unnest(range(1, len(words))) AS i FROM tokens)),
                 counted AS (SELECT a, b, count(*) AS n FROM pairs GROUP BY 1, 2 HAVING n > 1)
            SELECT a || ' ' || b AS phrase, n AS count FROM counted
            WHERE {_CONTENT.format(w="a")} AND {_CONTENT.format(w="b")}
            ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
        )
        domains = rows(
            con,
            f"""
            SELECT d AS domain, count(*) AS count
            FROM (SELECT rtrim(regexp_replace(unnest({_DOMAINS}), '^www\\.', ''), '.,;!') AS d
                  FROM said WHERE link)
            WHERE d <> '' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {int(top)}""",
        )
        return {
            "languages": list(codes),
            "words": words,
            "words_by_month": series,
            "phrases": phrases,
            "emoji": top_emoji(con, top),
            "domains": domains,
            "sentiment": sentiment(con),
            "sample": {"messages": read, "of": total},
            "detected": detected,
        }
    finally:
        con.execute("DROP TABLE IF EXISTS tokens")
        con.unregister("said")
        con.unregister("stop")


_NON_ASCII = regex.compile(r"[^\x00-\x7f]+")
_LONGEST = max(map(len, emoji.EMOJI_DATA))


def emoji_in(text: str) -> list[str]:
    """The emoji of ``text`` as ``emoji.emoji_list`` finds them, faster: the longest entry of the
    package's table at each place of the non-ASCII runs. A text with a zero-width joiner goes to
    ``emoji_list`` itself (it splits joined sequences outside its table its own way)."""
    if "\u200d" in text:
        return [e["emoji"] for e in emoji.emoji_list(text)]
    found = []
    for run in _NON_ASCII.finditer(text):
        start, end = run.start(), run.end()
        if start > 0 and text[start] in "\ufe0f\u20e3":  # a keycap (#️⃣) starts in ASCII
            start -= 1
        at = start
        while at < end:
            for size in range(min(_LONGEST, end - at), 0, -1):
                if text[at : at + size] in emoji.EMOJI_DATA:
                    found.append(text[at : at + size])
                    at += size
                    break
            else:
                at += 1
    return found


def top_emoji(con: duckdb.DuckDBPyConnection, top: int) -> list[dict]:
    counted: Counter = Counter()
    found = con.execute("SELECT text FROM said WHERE emojis > 0")
    while batch := found.fetchmany(10_000):
        for (text,) in batch:
            counted.update(emoji_in(text))
    return [
        {"emoji": e, "count": n}
        for e, n in sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:top]
    ]


def sentiment(con: duckdb.DuckDBPyConnection) -> dict:
    sample = con.execute(f"""
        SELECT strftime(t, '%Y-%m') AS month, text FROM said
        ORDER BY hash(message_id), message_id LIMIT {SENTIMENT_SAMPLE}""").fetchall()
    analyzer = _analyzer()
    by_month: dict[str, list[float]] = defaultdict(list)
    for month, text in sample:
        by_month[month].append(analyzer.polarity_scores(text)["compound"])
    scores = [s for month_scores in by_month.values() for s in month_scores]
    n = len(scores)
    return {
        "model": "vaderSentiment",
        "scored": n,
        "positive": sum(s >= 0.05 for s in scores) / n if n else None,
        "negative": sum(s <= -0.05 for s in scores) / n if n else None,
        "neutral": sum(-0.05 < s < 0.05 for s in scores) / n if n else None,
        "months": [
            {"month": month, "messages": len(v), "mean": sum(v) / len(v)}
            for month, v in sorted(by_month.items())
        ],
    }
