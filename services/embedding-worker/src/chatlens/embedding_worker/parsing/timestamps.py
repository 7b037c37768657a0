"""Dates and times of a WhatsApp export: which field is the day, and what instant a line means.

An export's dates are written in the phone's locale with no hint of the order, so the order is
decided per file from all its dates (:class:`DateOrderVote`): the reading under which more dates
are valid wins (a 13th month settles it), then the one under which the chat runs forward in time,
then day-first, the more common locale. Times carry no offset: they are local to the exporting
phone, and turned into UTC with the zone the user gave, or read as UTC when none was given.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import tz as dateutil_tz

DateOrder = Literal["day-first", "month-first", "year-first"]


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(text: str) -> int:
    # Two-digit years are this century: WhatsApp did not exist before 2009.
    value = int(text)
    return 2000 + value if len(text) <= 2 else value


def read_date(d1: str, d2: str, d3: str, order: DateOrder) -> date | None:
    """The date of a header's three numeric fields under ``order``; None if it is no date."""
    if order == "year-first" or len(d1) == 4:
        return _date(_year(d1), int(d2), int(d3)) if len(d3) <= 2 else None
    if len(d3) == 3 or len(d1) > 2:
        return None
    if order == "day-first":
        return _date(_year(d3), int(d2), int(d1))
    return _date(_year(d3), int(d1), int(d2))


def read_time(
    hour: str, minute: str, second: str | None, ampm: str | None
) -> tuple[int, int, int] | None:
    """``(hour, minute, second)`` on a 24-hour clock; None if out of range."""
    h, m, s = int(hour), int(minute), int(second or 0)
    if ampm:
        if h > 12:
            return None
        pm = ampm in "Pp"
        h = (h % 12) + (12 if pm else 0)
    if h > 23 or m > 59 or s > 59:
        return None
    return h, m, s


@dataclass
class DateOrderVote:
    """Tallies, over every date of a file, the evidence for reading it day- or month-first."""

    valid: dict[str, int] = field(default_factory=lambda: {"day-first": 0, "month-first": 0})
    backwards: dict[str, int] = field(default_factory=lambda: {"day-first": 0, "month-first": 0})
    year_first: int = 0
    _last: dict[str, date] = field(default_factory=dict)

    def add(self, d1: str, d2: str, d3: str) -> None:
        if len(d1) == 4:
            self.year_first += read_date(d1, d2, d3, "year-first") is not None
            return
        for order in ("day-first", "month-first"):
            day = read_date(d1, d2, d3, order)  # type: ignore[arg-type]
            if day is None:
                continue
            self.valid[order] += 1
            last = self._last.get(order)
            if last is not None and day < last:
                self.backwards[order] += 1
            self._last[order] = day

    def decide(self) -> DateOrder:
        if self.year_first > max(self.valid.values()):
            return "year-first"
        day, month = self.valid["day-first"], self.valid["month-first"]
        if day != month:
            return "day-first" if day > month else "month-first"
        if self.backwards["month-first"] < self.backwards["day-first"]:
            return "month-first"
        return "day-first"


@dataclass(frozen=True)
class Clock:
    """Turns the local times of one export into UTC, and says what it assumed."""

    zone: ZoneInfo | None
    assumption: str

    @classmethod
    def for_upload(cls, name: str | None) -> Clock:
        """The clock for a user-given IANA zone name, or UTC when none was given.

        Raises ``LookupError`` for a name that is no IANA zone.
        """
        if not name:
            return cls(None, "UTC (assumed)")
        try:
            return cls(ZoneInfo(name), f"{name} (given)")
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise LookupError(f"unknown time zone {name!r}") from exc

    def to_utc(self, local: datetime) -> datetime:
        if self.zone is None:
            return local.replace(tzinfo=UTC)
        # A time inside a spring-forward gap never existed on that phone's clock; dateutil moves
        # it past the gap instead of guessing an offset.
        aware = dateutil_tz.resolve_imaginary(local.replace(tzinfo=self.zone))
        return aware.astimezone(UTC)
