"""Login rate limits: attempts per account and per source address over a sliding minute.

Attempts are rows of `login_attempts` (see the model for why the database and not memory).
The check and the insert run in one write transaction, which SQLite serialises, so the limit
is exact there. On PostgreSQL two attempts that arrive at the same instant may both pass the
check; the limit can then be exceeded by the number of truly simultaneous requests, which
does not change what a guesser can do in a minute by more than a handful.

A request refused by the limiter is not itself recorded: it checked no password, and counting
it would let anyone keep an account's window full forever just by asking.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from server.models import LoginAttempt

WINDOW = dt.timedelta(minutes=1)
# Old rows go once they can no longer matter; an hour leaves some history to look at.
KEEP = dt.timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Allowance:
    allowed: bool
    # Seconds until the oldest attempt in the window leaves it (for Retry-After).
    retry_after: int = 0


def admit(conn: Connection, *, username: str, ip: str, now: dt.datetime,
          per_minute: int) -> Allowance:
    """Record a login attempt if both its account and its source are under the limit."""
    since = now - WINDOW
    oldest: list[dt.datetime] = []
    for column, value in ((LoginAttempt.username, username), (LoginAttempt.ip, ip)):
        count, first = conn.execute(
            select(func.count(), func.min(LoginAttempt.at))
            .where(column == value, LoginAttempt.at > since)
        ).one()
        if count >= per_minute:
            oldest.append(_aware(first))
    if oldest:
        wait = min(oldest) + WINDOW - now
        return Allowance(False, max(1, int(wait.total_seconds()) + 1))
    conn.execute(delete(LoginAttempt).where(LoginAttempt.at < now - KEEP))
    conn.execute(insert(LoginAttempt).values(at=now, username=username, ip=ip))
    return Allowance(True)


def mark_succeeded(conn: Connection, *, username: str, ip: str, at: dt.datetime) -> None:
    """Note that the attempt recorded at `at` signed in (for whoever reads the table)."""
    conn.execute(
        LoginAttempt.__table__.update()
        .where(LoginAttempt.username == username, LoginAttempt.ip == ip, LoginAttempt.at == at)
        .values(succeeded=True)
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    # min() keeps the column's type, so this is UTC already; be sure it says so.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
