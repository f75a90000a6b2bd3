"""When a service takes tickets, and how long a citizen can expect to wait."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

# Used until today's completed tickets give a real average for the service.
DEFAULT_SERVICE_MINUTES = 10.0
# How far ahead to look for the next opening (long holiday weekends included).
_LOOKAHEAD_DAYS = 14


class ClosedReason(StrEnum):
    OUTSIDE_HOURS = "outside_hours"
    NOT_A_WORKING_DAY = "not_a_working_day"
    HOLIDAY = "holiday"
    NO_OPEN_COUNTER = "no_open_counter"


@dataclass(frozen=True, slots=True)
class Schedule:
    opens: dt.time
    closes: dt.time
    working_days: frozenset[int]
    holidays: frozenset[dt.date]
    timezone: ZoneInfo

    def is_working_day(self, day: dt.date) -> bool:
        return day.isoweekday() in self.working_days and day not in self.holidays


@dataclass(frozen=True, slots=True)
class Availability:
    open: bool
    reason: ClosedReason | None = None
    # Next moment the CSA opens (UTC), when it is closed by the calendar or the clock.
    opens_at: dt.datetime | None = None


def availability(schedule: Schedule, now_utc: dt.datetime, open_counters: int) -> Availability:
    """Whether a service with `open_counters` counters open takes tickets at `now_utc`."""
    local = now_utc.astimezone(schedule.timezone)
    today = local.date()
    if today in schedule.holidays:
        return Availability(False, ClosedReason.HOLIDAY, next_opening(schedule, now_utc))
    if today.isoweekday() not in schedule.working_days:
        return Availability(False, ClosedReason.NOT_A_WORKING_DAY, next_opening(schedule, now_utc))
    if not schedule.opens <= local.time() < schedule.closes:
        return Availability(False, ClosedReason.OUTSIDE_HOURS, next_opening(schedule, now_utc))
    if open_counters <= 0:
        return Availability(False, ClosedReason.NO_OPEN_COUNTER)
    return Availability(True)


def next_opening(schedule: Schedule, now_utc: dt.datetime) -> dt.datetime | None:
    """The next opening time strictly after `now_utc`, or None if none within two weeks."""
    local = now_utc.astimezone(schedule.timezone)
    for offset in range(_LOOKAHEAD_DAYS + 1):
        day = local.date() + dt.timedelta(days=offset)
        if not schedule.is_working_day(day):
            continue
        opening = dt.datetime.combine(day, schedule.opens, tzinfo=schedule.timezone)
        if opening > local:
            return opening.astimezone(dt.UTC)
    return None


def estimated_wait_minutes(position: int, open_counters: int,
                           average_service_minutes: float | None) -> int | None:
    """Minutes until a ticket at `position` is likely called; None when nobody is serving.

    Those ahead are shared among the open counters, and the counters are on average halfway
    through their current citizen.
    """
    if open_counters <= 0 or position < 1:
        return None
    minutes = average_service_minutes or DEFAULT_SERVICE_MINUTES
    return math.ceil((position - 0.5) * minutes / open_counters)
