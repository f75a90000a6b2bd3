"""Counters opening, pausing and closing, and the day of one counter in figures."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select, update

from server.context import Turnos
from server.domain.errors import NotFound
from server.domain.numbering import service_day
from server.domain.tickets import TicketStatus
from server.models import CounterRow, Ticket
from server.services import events, queries

T = Ticket.__table__.c


class CounterState(StrEnum):
    """Open counters take tickets and count for the kiosk's wait estimates."""

    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


_EVENT = {
    CounterState.OPEN: "counter.opened",
    CounterState.PAUSED: "counter.paused",
    CounterState.CLOSED: "counter.closed",
}


@dataclass(frozen=True, slots=True)
class CounterDay:
    counter: str
    served: int
    no_shows: int
    # From first call to completion, over today's completed tickets; None before the first.
    average_service_seconds: int | None


def set_state(
    ctx: Turnos, counter_id: str, state: CounterState, *, actor: str, reason: str | None = None
) -> queries.CounterStatus:
    """Open, pause (a break) or close a counter; a ticket it holds stays with it."""
    counter = _counter(ctx, counter_id)
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        conn.execute(
            update(CounterRow).where(CounterRow.id == counter_id).values(state=state.value)
        )
        published = events.append(
            conn,
            [
                events.EventDraft(
                    type=_EVENT[state],
                    at=now,
                    ticket_id=None,
                    service_code=None,
                    counter_id=counter_id,
                    actor=actor,
                    payload={
                        "counter": {
                            "id": counter.id,
                            "name": counter.name,
                            "state": state.value,
                            "services": list(counter.services),
                        },
                        "reason": reason,
                    },
                )
            ],
        )
    ctx.sink.publish(published)
    return next(c for c in queries.counters(ctx) if c.id == counter_id)


def counter_day(ctx: Turnos, counter_id: str) -> CounterDay:
    """What this counter has done today (a finished ticket keeps the counter that ended it)."""
    _counter(ctx, counter_id)
    today = service_day(ctx.clock.now(), ctx.config.timezone)
    finished = (TicketStatus.COMPLETED.value, TicketStatus.NO_SHOW.value)
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(T.status, T.first_called_at, T.finished_at).where(
                T.day == today, T.counter_id == counter_id, T.status.in_(finished)
            )
        ).all()
    durations = [
        (row.finished_at - row.first_called_at).total_seconds()
        for row in rows
        if row.status == TicketStatus.COMPLETED.value and row.first_called_at is not None
    ]
    no_shows = sum(1 for row in rows if row.status == TicketStatus.NO_SHOW.value)
    average = round(sum(durations) / len(durations)) if durations else None
    return CounterDay(counter_id, len(durations), no_shows, average)


def _counter(ctx: Turnos, counter_id: str):
    try:
        return ctx.config.counter(counter_id)
    except KeyError:
        raise NotFound(f"there is no counter '{counter_id}'", code="unknown_counter") from None
