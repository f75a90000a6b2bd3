"""Ticket numbers: a letter prefix per service and a count that restarts each CSA-local day."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

_NUMBER = re.compile(r"^\s*([A-Za-z]{1,2})\s*-?\s*0*(\d{1,6})\s*$")


def service_day(now_utc: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The CSA-local calendar day a moment belongs to; numbering restarts with it."""
    if now_utc.tzinfo is None:
        raise ValueError("service_day needs an aware datetime")
    return now_utc.astimezone(tz).date()


def format_number(prefix: str, sequence: int) -> str:
    """A-001 ... A-999, then A-1000: at least three digits so the hall display aligns."""
    if sequence < 1:
        raise ValueError("ticket sequence numbers start at 1")
    return f"{prefix}-{sequence:03d}"


def parse_number(text: str) -> tuple[str, int] | None:
    """Read what staff type ("a42", "A-042", "A 42") as (prefix, sequence), or None."""
    match = _NUMBER.match(text)
    if match is None:
        return None
    sequence = int(match.group(2))
    if sequence < 1:
        return None
    return match.group(1).upper(), sequence
