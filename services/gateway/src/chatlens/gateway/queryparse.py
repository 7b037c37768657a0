"""Query understanding: operators inside the query string become filters.

    from:Marta  from:"Marta Silva"   the sender (display name or sender id)
    in:general  in:"Team Lisbon"     the chat
    after:2025-02-01                 sent on or after that moment (a date means its midnight, UTC)
    before:2025-03-01                sent before that moment

Dates go through python-dateutil, so ``2025-02-14``, ``14 Feb 2025`` or ``2025-02-14T10:00+01:00``
all work; ambiguous day/month orders are read as ISO and then month-first (dateutil's default).
Anything else with a colon (``http://...``, ``10:30``) is left in the text. What remains is the
free text: quoted phrases and ``prefix*`` words stay in it for the keyword search, and the text
embedded for the semantic search has the quotes and stars removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from dateutil import parser as dateparser

from chatlens.gateway.application.errors import Invalid

_OPERATOR = re.compile(r'(?<!\S)(from|in|before|after):(?:"([^"]*)"|(\S+))', re.IGNORECASE)


@dataclass
class ParsedQuery:
    text: str  # for the keyword search: operators removed, quotes and stars kept
    senders: list[str] = field(default_factory=list)
    chats: list[str] = field(default_factory=list)
    since: datetime | None = None
    until: datetime | None = None

    @property
    def semantic_text(self) -> str:
        """What to embed: the words without the keyword syntax."""
        return " ".join(self.text.replace('"', " ").replace("*", " ").split())


def parse_date(value: str, what: str) -> datetime:
    """A date or date-time; naive ones are UTC. Raises a 422 ``invalid_date``."""
    try:
        moment = dateparser.parse(value, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError) as exc:
        raise Invalid("invalid_date", f"{what}: {value!r} is not a date ({exc})") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    aware: datetime = moment.astimezone(UTC)
    return aware


def parse_query(query: str) -> ParsedQuery:
    parsed = ParsedQuery(text="")

    def take(match: re.Match[str]) -> str:
        name = match.group(1).lower()
        value = match.group(2) if match.group(2) is not None else match.group(3)
        value = value.strip()
        if not value:
            raise Invalid("invalid_query", f"{name}: needs a value")
        if name == "from":
            parsed.senders.append(value)
        elif name == "in":
            parsed.chats.append(value)
        elif name == "after":
            parsed.since = parse_date(value, "after:")
        else:
            parsed.until = parse_date(value, "before:")
        return " "

    parsed.text = " ".join(_OPERATOR.sub(take, query).split())
    return parsed
