"""A question's own filters: "what did Alice say in March" searches Alice's messages of March.

Rule-based, on the collection's real senders and chats (the index's facets), so a name becomes a
filter only when someone of that name wrote in the collection, and only in phrasings that make
it the speaker ("did Alice say", "Alice wrote", "from Alice", "Alice's objections", "according
to Alice"), not a topic ("Alice's birthday"). A first name counts when one sender has it. Chats
are recognised as ``#ops``, "in the ops channel", or "in Team Lisbon" (a capitalised chat name).

Dates are relative to ``now`` (UTC) and computed with python-dateutil (``relativedelta`` for the
calendar, its parser for written dates): "today", "yesterday", "this/last week|month|year",
"the last 3 days", "2 weeks ago", "in March" (the latest March not in the future), "in March
2025", "in 2024", "since|after|before|until <date>", "on <date>", "between <date> and <date>".
A window is ``[since, until)``, like the search filters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from dateutil import parser as dateutil_parser
from dateutil.relativedelta import MO, relativedelta

_SPEECH_VERBS = (
    "say|said|says|write|wrote|writes|written|mention|mentioned|mentions|ask|asked|asks|suggest|"
    "suggested|suggests|propose|proposed|proposes|think|thinks|thought|post|posted|posts|share|"
    "shared|shares|object|objected|complain|complained|decide|decided|reply|replied|answer|"
    "answered|tell|told|send|sent|promise|promised|agree|agreed|argue|argued|claim|claimed|"
    "report|reported|announce|announced|want|wanted|feel|felt|recommend|recommended|note|noted"
)
_SPEECH_NOUNS = (
    "messages?|posts?|comments?|objections?|suggestions?|proposals?|ideas?|opinions?|views?|"
    "questions?|answers?|replies|reply|points?|concerns?|words|take|position|arguments?|"
    "feedback|updates?|plans?|thoughts|complaints?|recommendations?|notes?"
)
_SENDER_FORMS = (
    r"\b(?:did|does|do|has|have|had|would|will|could|should|can)\s+{name}\b",
    r"\b{name}\s+(?:(?:also|ever|just|first|then|really|actually)\s+)?(?:" + _SPEECH_VERBS + r")\b",
    r"\b(?:from|by)\s+{name}\b",
    r"\b{name}(?:'s|’s|s')\s+(?:(?:\w+\s+)?)(?:" + _SPEECH_NOUNS + r")\b",
    r"\baccording\s+to\s+{name}\b",
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|"
    "december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
# A written date: "14 March 2025", "March 14", "March 2025", "2025-03-14", "14/03/2025".
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTHS})\.?(?:,?\s+\d{{4}})?|"
    rf"(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|"
    rf"(?:{_MONTHS})\.?(?:\s+\d{{4}})?|(?:19|20)\d{{2}})"
)
_UNITS = {
    "day": "days",
    "days": "days",
    "week": "weeks",
    "weeks": "weeks",
    "month": "months",
    "months": "months",
    "year": "years",
    "years": "years",
}
_NUMBERS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
}


@dataclass
class QuestionFilters:
    senders: list[str] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None
    # The words of the question each filter came from, for the answer's explanation.
    matched: dict[str, str] = field(default_factory=dict)


def interpret(
    question: str, senders: list[str], chats: list[str], now: datetime
) -> QuestionFilters:
    """The filters ``question`` states, given the collection's senders and chats."""
    found = QuestionFilters()
    _find_senders(question, senders, found)
    _find_chats(question, chats, found)
    _find_dates(question, now.astimezone(UTC), found)
    return found


# --- senders ------------------------------------------------------------------------------------


def _aliases(senders: list[str]) -> dict[str, str]:
    """Name as written in a question -> the sender: the full name, and a first name one has."""
    aliases = {s.casefold(): s for s in senders if s.strip()}
    first: dict[str, list[str]] = {}
    for sender in senders:
        parts = sender.split()
        if len(parts) > 1 and len(parts[0]) >= 3:
            first.setdefault(parts[0].casefold(), []).append(sender)
    for name, owners in first.items():
        if len(owners) == 1 and name not in aliases:
            aliases[name] = owners[0]
    return aliases


def _find_senders(question: str, senders: list[str], found: QuestionFilters) -> None:
    # Longest names first, so "Marta Silva" wins over "Marta".
    for alias, sender in sorted(_aliases(senders).items(), key=lambda a: -len(a[0])):
        name = r"\s+".join(re.escape(part) for part in alias.split())
        for form in _SENDER_FORMS:
            match = re.search(form.replace("{name}", name), question, re.IGNORECASE)
            if match and sender not in found.senders:
                found.senders.append(sender)
                found.matched.setdefault("sender", match.group(0))
                break


# --- chats --------------------------------------------------------------------------------------


def _find_chats(question: str, chats: list[str], found: QuestionFilters) -> None:
    for chat in sorted(chats, key=len, reverse=True):
        bare = chat.lstrip("#").strip()
        if not bare:
            continue
        name = r"\s+".join(re.escape(part) for part in bare.split())
        forms = [
            rf"(?<![\w#])#{name}\b",
            rf"\bin\s+(?:the\s+)?{name}\s+(?:channel|chat|group|room|thread|server)\b",
        ]
        flags: list[int] = [re.IGNORECASE, re.IGNORECASE]
        if bare != bare.lower():  # "in Team Lisbon": only as written, "in general" is English
            forms.append(rf"\bin\s+(?:the\s+)?{name}\b")
            flags.append(0)
        for form, flag in zip(forms, flags, strict=True):
            match = re.search(form, question, flag)
            if match and chat not in found.chats:
                found.chats.append(chat)
                found.matched.setdefault("chat", match.group(0))
                break


# --- dates --------------------------------------------------------------------------------------


def _day(moment: datetime) -> datetime:
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def _written(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """The window a written date names: a day, a month or a year; the latest one not after
    ``now`` when the year is left out."""
    text = text.strip().rstrip(".,")
    if re.fullmatch(r"\d{4}", text):
        start = datetime(int(text), 1, 1, tzinfo=UTC)
        return start, start + relativedelta(years=1)
    has_day = bool(re.search(r"\d{4}-\d{1,2}-\d{1,2}|/|\b\d{1,2}(st|nd|rd|th)?\b", text))
    has_year = bool(re.search(r"\b\d{4}\b|/\d{2,4}$", text))
    try:
        moment = dateutil_parser.parse(text, default=datetime(now.year, 1, 1), dayfirst="/" in text)
    except (ValueError, OverflowError):
        return None
    moment = moment.replace(tzinfo=UTC)
    if not has_day:
        start = moment.replace(day=1)
        if not has_year and start > now:
            start -= relativedelta(years=1)
        return start, start + relativedelta(months=1)
    start = _day(moment)
    if not has_year and start > now:
        start -= relativedelta(years=1)
    return start, start + timedelta(days=1)


def _relative(question: str, now: datetime) -> tuple[tuple[datetime, datetime], str] | None:
    today = _day(now)
    q = question.lower()
    if m := re.search(r"\btoday\b", q):
        return (today, today + timedelta(days=1)), m.group(0)
    if m := re.search(r"\byesterday\b", q):
        return (today - timedelta(days=1), today), m.group(0)
    if m := re.search(r"\b(this|last|past|previous)\s+(week|month|year)\b", q):
        which, unit = m.groups()
        start = {
            "week": today + relativedelta(weekday=MO(-1)),
            "month": today.replace(day=1),
            "year": today.replace(month=1, day=1),
        }[unit]
        step = relativedelta(**{_UNITS[unit]: 1})
        if which == "this":
            return (start, start + step), m.group(0)
        if which == "past":  # "the past week": the 7 days up to now
            return (now - step, now + timedelta(seconds=1)), m.group(0)
        return (start - step, start), m.group(0)
    number = r"(\d{1,3}|" + "|".join(_NUMBERS) + r")"
    if m := re.search(rf"\b(?:last|past|previous)\s+{number}\s+(days?|weeks?|months?|years?)\b", q):
        count = int(_NUMBERS.get(m.group(1), m.group(1) if m.group(1).isdigit() else 1))
        return (
            now - relativedelta(**{_UNITS[m.group(2)]: count}),
            now + timedelta(seconds=1),
        ), m.group(0)
    if m := re.search(rf"\b{number}\s+(days?|weeks?|months?|years?)\s+ago\b", q):
        count = int(_NUMBERS.get(m.group(1), m.group(1) if m.group(1).isdigit() else 1))
        unit = _UNITS[m.group(2)]
        moment = now - relativedelta(**{unit: count})
        span = {"days": timedelta(days=1), "weeks": timedelta(days=7)}.get(unit)
        if span is None:  # "2 months ago": that month
            start = (
                _day(moment).replace(day=1)
                if unit == "months"
                else _day(moment).replace(month=1, day=1)
            )
            return (start, start + relativedelta(**{unit: 1})), m.group(0)
        start = _day(moment) if unit == "days" else _day(moment) + relativedelta(weekday=MO(-1))
        return (start, start + span), m.group(0)
    return None


def _find_dates(question: str, now: datetime, found: QuestionFilters) -> None:
    relative = _relative(question, now)
    if relative is not None:
        (found.since, found.until), found.matched["dates"] = relative
        return
    flags = re.IGNORECASE
    if m := re.search(rf"\bbetween\s+({_DATE})\s+and\s+({_DATE})\b", question, flags):
        first, last = _written(m.group(1), now), _written(m.group(2), now)
        if first and last and first[0] < last[1]:
            found.since, found.until = first[0], last[1]
            found.matched["dates"] = m.group(0)
            return
    bounds: dict[str, datetime | None] = {"since": None, "until": None}
    for m in re.finditer(
        rf"\b(since|after|from|before|until|till|by)\s+({_DATE})\b", question, flags
    ):
        window = _written(m.group(2), now)
        if window is None:
            continue
        word = m.group(1).lower()
        if word in ("since", "from"):
            bounds["since"] = window[0]
        elif word == "after":
            bounds["since"] = window[1]
        elif word in ("before",):
            bounds["until"] = window[0]
        else:  # until, till, by: that day, month or year included
            bounds["until"] = window[1]
        found.matched["dates"] = (found.matched.get("dates", "") + " " + m.group(0)).strip()
    if bounds["since"] or bounds["until"]:
        found.since, found.until = bounds["since"], bounds["until"]
        return
    if m := re.search(rf"\b(in|on|during|of|for)\s+({_DATE})\b", question, flags):
        window = _written(m.group(2), now)
        if window is not None:
            found.since, found.until = window
            found.matched["dates"] = m.group(0)
