"""Filter columns: text fields compared folded (case, accents), as integer codes."""

from datetime import UTC, datetime

import numpy as np
import pytest
from pydantic import ValidationError

from chatlens.index.filters import Codes, Columns
from chatlens.shared.schemas import ChatMessage, SearchFilters


def test_values_that_fold_alike_share_a_code_and_match_either_spelling():
    codes = Codes(["Équipe", "equipe", "Ops", "ÉQUIPE", "ops", ""], str.casefold)
    assert codes.codes[0] != codes.codes[1]  # casefold keeps the accent: two values
    folded = Codes(
        ["Équipe", "equipe", "Ops", "ÉQUIPE", "ops", ""], lambda v: v.casefold().replace("é", "e")
    )
    assert len(set(folded.codes[[0, 1, 3]].tolist())) == 1
    assert folded.isin(["equipe"]).tolist() == [True, True, False, True, False, False]
    assert folded.isin(["ops", "nowhere"]).tolist() == [False, False, True, False, True, False]


def test_no_values_and_no_fold():
    assert Codes([], str.casefold).codes.size == 0
    plain = Codes(iter(["a", "b", "a"]))
    assert plain.codes.tolist() == [0, 1, 0] and plain.codes.dtype == np.int32


def _message(i: int, sent_at: datetime) -> ChatMessage:
    return ChatMessage(
        message_id=f"m{i}",
        platform="whatsapp",
        chat="Team",
        sender="Ana",
        sent_at=sent_at,
        tz_assumption="UTC",
        kind="text",
        text="hi",
        seq=i,
        source_file="chat.txt",
    )


def test_a_slot_of_the_week_is_read_in_the_zone_across_daylight_saving_time():
    times = [
        datetime(2025, 3, 29, 9, 30, tzinfo=UTC),  # Saturday 09:30 in Lisbon (WET)
        datetime(2025, 3, 31, 9, 30, tzinfo=UTC),  # Monday 10:30 in Lisbon (WEST)
        datetime(2025, 3, 31, 8, 59, tzinfo=UTC),  # Monday 09:59 in Lisbon
        datetime(2025, 3, 30, 23, 30, tzinfo=UTC),
    ]  # Sunday in UTC, Monday 00:30 Lisbon
    columns = Columns([_message(i, t) for i, t in enumerate(times)])
    lisbon = "Europe/Lisbon"
    assert columns.mask(SearchFilters(hours=[9], timezone=lisbon)).tolist() == [
        True,
        False,
        True,
        False,
    ]
    assert columns.mask(SearchFilters(weekdays=[0], timezone=lisbon)).tolist() == [
        False,
        True,
        True,
        True,
    ]
    assert columns.mask(SearchFilters(hours=[9], weekdays=[0], timezone=lisbon)).tolist() == [
        False,
        False,
        True,
        False,
    ]
    # The same instants in UTC: the Sunday one stays on Sunday.
    assert columns.mask(SearchFilters(weekdays=[6])).tolist() == [False, False, False, True]
    assert columns.mask(SearchFilters(hours=[9, 23], weekdays=[0, 6])).tolist() == [
        False,
        True,
        False,
        True,
    ]


def test_a_slot_filter_refuses_an_unknown_zone_and_hours_out_of_range():
    for bad in ({"timezone": "Mars/Olympus"}, {"hours": [24]}, {"weekdays": [7]}):
        with pytest.raises(ValidationError):
            SearchFilters(**bad)
    assert not SearchFilters(hours=[0]).empty and SearchFilters(timezone="Asia/Tokyo").empty
