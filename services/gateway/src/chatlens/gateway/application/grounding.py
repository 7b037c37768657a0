"""Grounding: check a generated answer against the messages it cites before it is returned.

The names, numbers, dates and places an answer states must appear in its cited messages (or be
normalisations of what they say: "March 12-14" for "12 to 14 March", "45000" for "45,000",
"9:45" for "09:45"; the cited message's own date and sender count as stated). An answer with an
unsupported claim, or one that adds nothing the cited messages say beyond the question's own
words ("the messages do not say" while one does), is replaced by a quote of the best message it
was given ("Marta Silva wrote on 14 Feb: 'Booked the venue ...'"), flagged as *extractive*.
When an unsupported name or place comes from another retrieved message about the question, the
answer says that the sources disagree ("Ann says Porto; another message (Ivan, 3 Mar) mentions
Moscow"). The cited message's own date supports a date only when no cited text names a day.

Pure functions over ``ChatMessage`` objects: no I/O, so the gateway's answers and ``make eval``
run the same check. Dates are read with python-dateutil's month and weekday tables; stop words
are the ``stop-words`` package's English list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from dateutil.parser import parserinfo
from stop_words import get_stop_words  # type: ignore[import-untyped]

from chatlens.shared import schemas

QUOTE_WHOLE_CHARS = 300  # a message up to this long is quoted whole, a longer one by sentence
MAX_DISAGREEMENTS = 2
_INFO = parserinfo()
# The stop-words package's English list (the index's word counts use the same package).
STOP_WORDS = frozenset(get_stop_words("english"))
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_RANGE = r"(?:\s*(?:-|\u2013|\u2014|to|until|till|through|and)\s*(?:the\s+)?" + _DAY + r")?"
_DAY_FIRST = re.compile(
    r"\b(?:the\s+)?" + _DAY + _RANGE + r"\s+(?:of\s+)?(" + _MONTH + r")(?![a-z])", re.IGNORECASE
)
_MONTH_FIRST = re.compile(
    r"\b(" + _MONTH + r")\s+(?:the\s+)?" + _DAY + _RANGE + r"(?![\d:])", re.IGNORECASE
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_BARE_MONTH = re.compile(r"\b(" + _MONTH + r")(?![a-z])", re.IGNORECASE)
_WEEKDAY = re.compile(
    r"\b(mon|tues?|wed(?:nes)?|thu(?:rs)?|fri|sat(?:ur)?|sun)(?:day)?s?\b", re.IGNORECASE
)
_TIME = re.compile(r"\b(\d{1,2})[:.h](\d{2})\b")
_NUMBER = re.compile(r"(?<![\w.])\d+(?:[,.]\d+)*(?!\w)")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_CAPITALISED = re.compile(r"\b[A-Z][^\W_]*(?:['\u2019][^\W_]+)?")
_REFERENCE = re.compile(r"\s*\[\d{1,2}\]")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_NUMBER_WORDS = {
    w: n
    for n, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update(
    {
        "thirty": 30,
        "forty": 40,
        "fifty": 50,
        "sixty": 60,
        "seventy": 70,
        "eighty": 80,
        "ninety": 90,
        "hundred": 100,
        "dozen": 12,
    }
)
# Capitalised words that are not names even in the middle of a sentence.
_NOT_NAMES = frozenset(
    {
        "i",
        "ok",
        "okay",
        "yes",
        "no",
        "fyi",
        "btw",
        "re",
        "message",
        "messages",
        "question",
        "answer",
        "chat",
        "according",
    }
)


Key = tuple[str, Any]  # ("day", (3, 14)), ("number", 45000.0), ("word", "lisbon"), ...


@dataclass(frozen=True)
class Claim:
    """One checkable statement of an answer: ``kind`` is number, date or name."""

    kind: str
    text: str  # as the answer writes it
    keys: frozenset[Key]  # its normalised forms; supported when all are stated


@dataclass
class Support:
    """What a set of messages states, normalised the way claims are."""

    numbers: set[float] = field(default_factory=set)
    times: set[tuple[int, int]] = field(default_factory=set)
    days: set[tuple[int, int]] = field(default_factory=set)  # (month, day)
    months: set[int] = field(default_factory=set)
    weekdays: set[int] = field(default_factory=set)
    words: set[str] = field(default_factory=set)

    def holds(self, claim: Claim) -> bool:
        """True when every normalised form of ``claim`` is stated here."""
        return all(self._has(key) for key in claim.keys)

    def _has(self, key: Key) -> bool:
        kind, value = key
        tables: dict[str, set[Any]] = {
            "number": self.numbers,
            "time": self.times,
            "day": self.days,
            "month": self.months,
            "weekday": self.weekdays,
            "word": self.words,
        }
        return value in tables[kind]


@dataclass(frozen=True)
class Grounded:
    """The checked answer: its text, the prompt numbers it cites, and what the check found."""

    text: str
    cited: list[int]
    extractive: bool
    unsupported: list[str]
    disagreements: list[str]
    # "supported", "recited" (supported by another retrieved message, cited instead),
    # "unsupported_claims", "no_information", "nothing_to_quote" or "echoed_prompt"
    reason: str

    def view(self) -> dict[str, Any]:
        """What the answer records and returns as its ``grounding``."""
        return {
            "extractive": self.extractive,
            "reason": self.reason,
            "unsupported": self.unsupported,
            "disagreements": self.disagreements,
        }


def ground(
    answer: str, question: str, evidence: Sequence[schemas.ChatMessage], cited: Sequence[int]
) -> Grounded:
    """Check ``answer`` against ``evidence[n - 1]`` for each ``n`` in ``cited`` (the prompt's
    numbering); keep it when everything it states is supported and it says something the
    question did not; keep it citing another retrieved message when that one message states
    all it claims; otherwise quote the best-matching message of ``evidence``."""
    cited_messages = [evidence[n - 1] for n in cited]
    support = support_of(cited_messages, question)
    claimed = claims(answer, context_words=_words_of(evidence))
    unsupported = [c for c in claimed if not support.holds(c)]
    if not unsupported and _adds_information(answer, question, cited_messages):
        return Grounded(answer, list(cited), False, [], [], "supported")
    if claimed:
        recited = _recite(answer, question, evidence, cited, claimed)
        if recited is not None:
            return recited
    best = _best_quote(question, evidence, cited)
    disagreements, disagreeing = _disagreements(unsupported, evidence, best, question)
    reason = "unsupported_claims" if unsupported else "no_information"
    if best is None:
        return Grounded(
            NO_GROUNDED_ANSWER,
            [],
            True,
            [c.text for c in unsupported],
            disagreements,
            "nothing_to_quote",
        )
    text = quote(evidence[best - 1], question, best)
    if disagreements:
        text += " Sources disagree: " + "; ".join(disagreements) + "."
    numbers = [best] + [n for n in disagreeing if n != best]
    return Grounded(text, numbers, True, [c.text for c in unsupported], disagreements, reason)


NO_GROUNDED_ANSWER = (
    "The messages found do not support an answer to that question, and none "
    "of them states it directly."
)


def extract(
    question: str, evidence: Sequence[schemas.ChatMessage], cited: Sequence[int], reason: str
) -> Grounded:
    """The fallback alone, for a model output that is no answer at all (it echoed its prompt:
    ``echo``): a quote of the message that best matches ``question``, or, when none shares a
    word with it, :data:`NO_GROUNDED_ANSWER` citing ``cited``; flagged with ``reason``."""
    best = _best_quote(question, evidence, cited)
    if best is None:
        return Grounded(NO_GROUNDED_ANSWER, list(cited), True, [], [], reason)
    return Grounded(quote(evidence[best - 1], question, best), [best], True, [], [], reason)


def claims(text: str, context_words: set[str] | None = None) -> list[Claim]:
    """The dates, times, numbers and names ``text`` states. A capitalised word that starts a
    sentence is taken for a name only when it occurs in ``context_words`` (the retrieved
    messages' words): "Moscow is ..." copied from a message counts, "The" and "Yes" do not."""
    text = _REFERENCE.sub("", text)
    found: list[Claim] = []
    spans: list[tuple[int, int]] = []
    for match, keys in _dates(text):
        found.append(Claim("date", match.group(0).strip().rstrip("."), frozenset(keys)))
        spans.append(match.span())
    for match in _TIME.finditer(text):
        if not _inside(match.span(), spans):
            found.append(
                Claim(
                    "number",
                    match.group(0),
                    frozenset({("time", (int(match.group(1)), int(match.group(2))))}),
                )
            )
            spans.append(match.span())
    for match in _NUMBER.finditer(text):
        if not _inside(match.span(), spans):
            value = _number(match.group(0))
            if value is not None:
                found.append(Claim("number", match.group(0), frozenset({("number", value)})))
    context = context_words or set()
    for start, word in _names(text):
        key = _word_key(word)
        if (
            key in STOP_WORDS
            or key in _NOT_NAMES
            or _is_calendar(word)
            or (_starts_sentence(text, start) and key not in context)
        ):
            continue
        found.append(Claim("name", word, frozenset({("word", key)})))
    return found


def support_of(messages: Iterable[schemas.ChatMessage], question: str) -> Support:
    """What ``messages`` state (their text, sender, chat and date) plus the question's words:
    repeating the question is not a claim."""
    support = Support()
    messages = list(messages)
    for message in messages:
        _add_text(support, f"{message.text} {message.sender or ''} {message.chat}")
    # A message's own date and time support a claim only when no cited text names a day: the
    # model copying the prompt's timestamp ("2024-02-15") for a demo "on 21 June" is wrong.
    texts_name_days = bool(support.days)
    for message in messages:
        sent = message.sent_at
        support.numbers.add(float(sent.year))
        support.months.add(sent.month)
        support.weekdays.add(sent.weekday())
        if not texts_name_days:
            support.days.add((sent.month, sent.day))
            support.numbers.add(float(sent.day))
            support.times.add((sent.hour, sent.minute))
    _add_text(support, question)
    return support


def quote(message: schemas.ChatMessage, question: str, n: int) -> str:
    """``message`` quoted as an answer: "Sender wrote on 14 Feb: '...' [n]", its sentence that
    best matches ``question`` when the message is long."""
    text = " ".join(message.text.split())
    if len(text) > QUOTE_WHOLE_CHARS:
        asked = _content(question)
        sentences = _SENTENCE.split(text)
        text = max(sentences, key=lambda s: (len(_content(s) & asked), -sentences.index(s)))
    sender = message.sender or "Someone"
    when = f"{message.sent_at.day} {message.sent_at:%b %Y}"
    return f"{sender} wrote on {when}: '{text.rstrip()}' [{n}]"


def _add_text(support: Support, text: str) -> None:
    for _match, keys in _dates(text):
        for kind, value in keys:
            if kind == "day":  # "12 to 14 March" names March too
                support.days.add(value)
                support.months.add(value[0])
            elif kind == "month":
                support.months.add(value)
            else:
                support.weekdays.add(value)
    for match in _TIME.finditer(text):
        support.times.add((int(match.group(1)), int(match.group(2))))
    for match in _NUMBER.finditer(text):
        value = _number(match.group(0))
        if value is not None:
            support.numbers.add(value)
    for match in _WEEKDAY.finditer(text):
        day = _INFO.weekday(match.group(1)[:3])
        if day is not None:
            support.weekdays.add(day)
    for word in _WORD.findall(text):
        key = _word_key(word)
        support.words.add(key)
        if key in _NUMBER_WORDS:
            support.numbers.add(float(_NUMBER_WORDS[key]))


def _dates(text: str) -> list[tuple[re.Match[str], set[Key]]]:
    """Each date span of ``text`` with its normalised keys: ("day", (month, day)) for every
    day of a range, ("month", m) for a month named alone, ("weekday", d) for a weekday."""
    out: list[tuple[re.Match[str], set[Key]]] = []
    taken: list[tuple[int, int]] = []
    for pattern, month_group, day_groups in ((_DAY_FIRST, 3, (1, 2)), (_MONTH_FIRST, 1, (2, 3))):
        for match in pattern.finditer(text):
            if _inside(match.span(), taken):
                continue
            month = _INFO.month(match.group(month_group).rstrip("."))
            first, last = (match.group(g) for g in day_groups)
            if month is None or not 1 <= int(first) <= 31:
                continue
            end = int(last) if last and int(first) <= int(last) <= 31 else int(first)
            out.append((match, {("day", (month, d)) for d in range(int(first), end + 1)}))
            taken.append(match.span())
    for match in _ISO_DATE.finditer(text):
        if not _inside(match.span(), taken) and 1 <= int(match.group(2)) <= 12:
            out.append((match, {("day", (int(match.group(2)), int(match.group(3))))}))
            taken.append(match.span())
    for match in _BARE_MONTH.finditer(text):
        word = match.group(1)
        # "may", "march" and "sat" in lower case are verbs more often than months.
        if _inside(match.span(), taken) or not word[0].isupper() or len(word.rstrip(".")) < 3:
            continue
        month = _INFO.month(word.rstrip("."))
        if month is not None:
            out.append((match, {("month", month)}))
            taken.append(match.span())
    for match in _WEEKDAY.finditer(text):
        day = _INFO.weekday(match.group(1)[:3])
        if not _inside(match.span(), taken) and day is not None and match.group(0)[0].isupper():
            out.append((match, {("weekday", day)}))
            taken.append(match.span())
    return out


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(start < span[1] and span[0] < end for start, end in spans)


def _number(text: str) -> float | None:
    """``45,000`` and ``45000`` alike; ``3.5`` as a decimal; None for what is not a number."""
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", text):
        text = text.replace(",", "")
    elif re.fullmatch(r"\d{1,3}(?:\.\d{3})+", text):  # 45.000, the European thousands
        text = text.replace(".", "")
    try:
        return float(text.replace(",", "."))
    except ValueError:
        return None


def _names(text: str) -> list[tuple[int, str]]:
    return [(m.start(), m.group(0)) for m in _CAPITALISED.finditer(text)]


def _word_key(word: str) -> str:
    key = word.lower().replace("\u2019", "'")
    return key[:-2] if key.endswith("'s") else key


def _is_calendar(word: str) -> bool:
    return (_INFO.month(word.rstrip(".")) is not None and len(word) >= 3) or bool(
        _WEEKDAY.fullmatch(word)
    )


def _starts_sentence(text: str, start: int) -> bool:
    before = text[:start].rstrip()
    return not before or before[-1] in ".!?:;\"'(\u201c"


def _words_of(messages: Iterable[schemas.ChatMessage]) -> set[str]:
    return {_word_key(w) for m in messages for w in _WORD.findall(f"{m.text} {m.sender or ''}")}


def _content(text: str) -> set[str]:
    """Lower-case words that carry meaning (no stop words), a plural's ``s`` dropped."""
    words = {_word_key(w) for w in _WORD.findall(_REFERENCE.sub("", text))}
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in words if w not in STOP_WORDS}


def _adds_information(answer: str, question: str, cited: Sequence[schemas.ChatMessage]) -> bool:
    """True when the answer shares a meaningful word with a cited message that the question
    does not already contain: it passes on something the messages say."""
    said = set().union(*(_content(m.text) for m in cited)) if cited else set()
    return bool((_content(answer) & said) - _content(question))


def _disagreements(
    unsupported: list[Claim],
    evidence: Sequence[schemas.ChatMessage],
    best: int | None,
    question: str,
) -> tuple[list[str], list[int]]:
    """Unsupported names and places that another retrieved message about the question states
    in its text (where the model took them from): what the quoted message says instead, and
    who mentions the other. A message is about the question when it holds at least half of
    the question's meaningful words; dates and times copied from the prompt's headers are not
    a source disagreeing."""
    notes: list[str] = []
    numbers: list[int] = []
    asked = _content(question)
    on_topic = [
        n
        for n, m in enumerate(evidence, start=1)
        if n != best and asked and len(_content(m.text) & asked) * 2 >= len(asked)
    ]
    quoted = evidence[best - 1] if best else None
    others = _words_of(m for n, m in enumerate(evidence, start=1) if n != best)
    question_support = support_of([], question)
    said = (
        [
            c.text
            for c in claims(quoted.text, others)
            if c.kind == "name" and not question_support.holds(c)
        ]
        if quoted
        else []
    )
    seen: set[str] = set()
    for claim in unsupported:
        if claim.kind != "name" or claim.text in seen:
            continue
        seen.add(claim.text)
        source = next((n for n in on_topic if _text_support(evidence[n - 1]).holds(claim)), None)
        if source is None or len(notes) >= MAX_DISAGREEMENTS:
            continue
        other = evidence[source - 1]
        stated = (
            f"{quoted.sender or 'the quoted message'} says {', '.join(said)}"
            if quoted and said
            else f"the quoted message does not say {claim.text}"
        )
        notes.append(
            f"{stated}; another message ({other.sender or 'unknown'}, "
            f"{other.sent_at.day} {other.sent_at:%b}) mentions {claim.text}"
        )
        numbers.append(source)
    return notes, numbers


def _text_support(message: schemas.ChatMessage) -> Support:
    support = Support()
    _add_text(support, message.text)
    return support


def _recite(
    answer: str,
    question: str,
    evidence: Sequence[schemas.ChatMessage],
    cited: Sequence[int],
    claimed: list[Claim],
) -> Grounded | None:
    """The answer citing the one retrieved message that states all it claims, when it cited
    others (the small model often numbers the wrong line): its ``[n]`` markers renumbered.
    Not when a cited message names something else the other does not (Porto against Moscow):
    that is sources disagreeing, and the answer quotes and says so."""
    question_support = support_of([], question)
    for n, message in enumerate(evidence, start=1):
        support = support_of([message], question)
        if not (
            all(support.holds(c) for c in claimed)
            and _adds_information(answer, question, [message])
        ):
            continue
        # A cited message's sentence-initial word is a name when another message holds it.
        competing = [
            c
            for m in cited
            for c in claims(
                evidence[m - 1].text,
                _words_of(e for i, e in enumerate(evidence, start=1) if i != m),
            )
            if c.kind == "name" and not question_support.holds(c) and not support.holds(c)
        ]
        if not competing:
            return Grounded(_REFERENCE.sub(f" [{n}]", answer), [n], False, [], [], "recited")
    return None


def _best_quote(
    question: str, evidence: Sequence[schemas.ChatMessage], cited: Sequence[int]
) -> int | None:
    """The prompt number of the message to quote: the one sharing most meaningful words with
    the question (a cited one, then the better-ranked one, on ties); None when none shares any."""
    asked = _content(question)
    scored = [
        (len(_content(m.text) & asked), n in cited, -n) for n, m in enumerate(evidence, start=1)
    ]
    if not scored:
        return None
    best = max(scored)
    return -best[2] if best[0] > 0 else None
