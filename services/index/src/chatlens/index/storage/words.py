"""What the language report counts in a message, derived once, when its segment is written.

    tokens      list<string>: the message's words in order: links taken out, lower-cased, runs
                of letters and digits (inner apostrophes kept: "don't"). Stop words and
                one-letter words stay: which words are stop words is the request's (its
                languages), and a phrase is two words next to each other before any is left out
    emoji_list  list<string>: the ``emoji`` package's emoji, in order (a family or a flag is one)
    domains     list<string>: each link's host, lower-cased, without ``www.`` and trailing
                punctuation
    sentiment   float32: VADER's compound score, -1 to 1 (``vaderSentiment``, its English
                lexicon inside the package)

Null where a message has none (no words, no emoji, no link, no text). Tokenising costs about
15 µs a message and VADER about 40 µs (py3langid's language, kept beside them, about 120 µs):
paid once at ingest, where reading every message's text per report cost seconds at a million.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import emoji
import pyarrow as pa
import regex
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

FIELDS = ("tokens", "emoji_list", "domains", "sentiment")
TYPES = {
    "tokens": pa.list_(pa.string()),
    "emoji_list": pa.list_(pa.string()),
    "domains": pa.list_(pa.string()),
    "sentiment": pa.float32(),
}
_LINK = regex.compile(r"(?i)\b(?:https?://|www\.)\S*")
_WORD = regex.compile(r"[\p{L}\p{N}]+(?:['’][\p{L}\p{N}]+)*")
_HOST = regex.compile(r"(?i)\b(?:https?://|www\.)([^\s/?#:]+)")
_NON_ASCII = regex.compile(r"[^\x00-\x7f]+")
_LONGEST = max(map(len, emoji.EMOJI_DATA))


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()  # reads its lexicon from the package once


def tokens(text: str) -> list[str]:
    """The words of ``text`` in order (see the module's docstring)."""
    return _WORD.findall(_LINK.sub(" ", text).lower())


def domains(text: str) -> list[str]:
    """The host of each link in ``text``: lower-cased, ``www.`` and trailing ``.,;!`` taken off."""
    hosts = (host.removeprefix("www.").rstrip(".,;!") for host in _HOST.findall(text.lower()))
    return [host for host in hosts if host]


def emoji_in(text: str) -> list[str]:
    """The emoji of ``text`` as ``emoji.emoji_list`` finds them, faster: the longest entry of the
    package's table at each place of the non-ASCII runs. A text with a zero-width joiner goes to
    ``emoji_list`` itself (it splits joined sequences outside its table its own way)."""
    if text.isascii():
        return []
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


def sentiment(text: str) -> float | None:
    """VADER's compound score of ``text``; None for an empty one."""
    return _analyzer().polarity_scores(text)["compound"] if text else None


def columns_of(texts: Sequence[str | None]) -> dict[str, pa.Array]:
    """The four columns for ``texts`` (None: a message without text), one row each."""
    data: dict[str, list] = {name: [] for name in FIELDS}
    for text in texts:
        text = text or ""
        data["tokens"].append(tokens(text) or None)
        data["emoji_list"].append(emoji_in(text) or None)
        data["domains"].append(domains(text) or None)
        data["sentiment"].append(sentiment(text))
    return {name: pa.array(values, TYPES[name]) for name, values in data.items()}
