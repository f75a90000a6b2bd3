"""Ticket numbers: how they are printed, how staff may type them, and when they restart."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.numbering import format_number, parse_number, service_day

MEXICO_CITY = ZoneInfo("America/Mexico_City")
CHICAGO = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(("prefix", "sequence", "printed"), [
    ("A", 1, "A-001"),
    ("A", 42, "A-042"),
    ("A", 999, "A-999"),
    ("A", 1000, "A-1000"),
    ("LN", 7, "LN-007"),
])
def test_a_number_has_its_prefix_and_at_least_three_digits(prefix, sequence, printed):
    assert format_number(prefix, sequence) == printed


@pytest.mark.parametrize("sequence", [0, -1])
def test_a_number_below_one_is_refused(sequence: int):
    with pytest.raises(ValueError):
        format_number("A", sequence)


@pytest.mark.parametrize(("typed", "parsed"), [
    ("a42", ("A", 42)),
    ("A-042", ("A", 42)),
    (" A 42 ", ("A", 42)),
    ("A42", ("A", 42)),
    ("a - 7", ("A", 7)),
    ("ln-1000", ("LN", 1000)),
])
def test_what_staff_type_is_read_as_prefix_and_sequence(typed: str, parsed):
    assert parse_number(typed) == parsed


@pytest.mark.parametrize("typed", ["42", "A-0", "A-000", "ABC-1", "", "   ", "A-", "-42",
                                   "A-4 2", "A--42", "A-42x", "4-A"])
def test_anything_that_is_not_a_ticket_number_reads_as_none(typed: str):
    assert parse_number(typed) is None


@given(
    prefix=st.text(alphabet=st.characters(min_codepoint=ord("A"), max_codepoint=ord("Z")),
                   min_size=1, max_size=2),
    # Six digits are what staff may type; a CSA never hands out a million numbers a day.
    sequence=st.integers(min_value=1, max_value=999_999),
)
def test_a_printed_number_reads_back_as_itself(prefix: str, sequence: int):
    assert parse_number(format_number(prefix, sequence)) == (prefix, sequence)


@given(prefix=st.sampled_from(["A", "LN"]), sequence=st.integers(min_value=1, max_value=999_999),
       zeros=st.integers(min_value=0, max_value=3))
def test_lower_case_and_extra_leading_zeros_read_the_same(prefix: str, sequence: int, zeros: int):
    typed = f"{prefix.lower()}{'0' * zeros}{sequence}"
    assert parse_number(typed) == (prefix, sequence)


def test_the_service_day_changes_at_local_midnight_in_mexico_city():
    # Mexico City is UTC-6 all year: local midnight is 06:00 UTC.
    before = dt.datetime(2026, 11, 24, 5, 59, 59, tzinfo=dt.UTC)
    after = dt.datetime(2026, 11, 24, 6, 0, 0, tzinfo=dt.UTC)
    assert service_day(before, MEXICO_CITY) == dt.date(2026, 11, 23)
    assert service_day(after, MEXICO_CITY) == dt.date(2026, 11, 24)


def test_the_service_day_is_the_local_day_not_the_utc_one():
    evening = dt.datetime(2026, 11, 24, 1, 30, tzinfo=dt.UTC)  # 19:30 on the 23rd locally
    assert evening.date() == dt.date(2026, 11, 24)
    assert service_day(evening, MEXICO_CITY) == dt.date(2026, 11, 23)


def test_the_service_day_accepts_any_aware_datetime():
    local = dt.datetime(2026, 11, 23, 23, 59, tzinfo=MEXICO_CITY)
    assert service_day(local, MEXICO_CITY) == dt.date(2026, 11, 23)
    offset = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert service_day(offset, MEXICO_CITY) == dt.date(2026, 11, 23)


@pytest.mark.parametrize("month", [1, 4, 7, 10])
def test_mexico_city_has_no_daylight_saving_time_any_more(month: int):
    # Mexico abolished DST in October 2022: midnight is at 06:00 UTC in every season.
    midnight = dt.datetime(2026, month, 15, 6, 0, tzinfo=dt.UTC)
    assert service_day(midnight - dt.timedelta(seconds=1), MEXICO_CITY) == dt.date(2026, month, 14)
    assert service_day(midnight, MEXICO_CITY) == dt.date(2026, month, 15)


def test_a_zone_with_daylight_saving_time_moves_its_midnight_in_summer():
    winter = dt.datetime(2026, 1, 15, 6, 0, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 5, 0, tzinfo=dt.UTC)
    assert service_day(winter - dt.timedelta(seconds=1), CHICAGO) == dt.date(2026, 1, 14)
    assert service_day(winter, CHICAGO) == dt.date(2026, 1, 15)
    # Central Daylight Time is UTC-5: a new day already, but not yet in Mexico City.
    assert service_day(summer, CHICAGO) == dt.date(2026, 7, 15)
    assert service_day(summer, MEXICO_CITY) == dt.date(2026, 7, 14)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError):
        service_day(dt.datetime(2026, 11, 23, 10, 0), MEXICO_CITY)
