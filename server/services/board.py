"""What the kiosk and the follow page show about each service: open or not, how many wait,
and how long a new (or a given) ticket can expect to wait."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Connection, select

from server.context import Turnos
from server.domain.availability import Availability, Schedule, availability, estimated_wait_minutes
from server.domain.numbering import service_day
from server.domain.tickets import TicketStatus
from server.models import CounterRow, Ticket
from server.services import queries
from server.services.views import TicketView

T = Ticket.__table__.c
# Recent completions per service that make up its average service time.
SAMPLE = 30


@dataclass(frozen=True, slots=True)
class ServiceBoard:
    service: str
    waiting: int
    open_counters: int
    # For a ticket issued now, at the end of the line.
    estimated_wait_minutes: int | None
    availability: Availability


def schedule(ctx: Turnos) -> Schedule:
    config = ctx.config
    return Schedule(config.hours.opens, config.hours.closes, config.working_days,
                    config.holidays, config.timezone)


def service_board(ctx: Turnos) -> list[ServiceBoard]:
    now = ctx.clock.now()
    waiting = {q.service: q.waiting for q in queries.queues(ctx)}
    with ctx.db.read() as conn:
        counters = _open_counters(ctx, conn)
        averages = _average_service_minutes(ctx, conn, now)
    plan = schedule(ctx)
    board = []
    for service in ctx.config.services:
        open_counters = counters[service.code]
        board.append(ServiceBoard(
            service=service.code,
            waiting=waiting.get(service.code, 0),
            open_counters=open_counters,
            estimated_wait_minutes=estimated_wait_minutes(
                waiting.get(service.code, 0) + 1, open_counters, averages.get(service.code)),
            availability=availability(plan, now, open_counters),
        ))
    return board


def estimate_for(ctx: Turnos, ticket: TicketView) -> int | None:
    """Estimated minutes until `ticket` is called; None unless it is waiting."""
    with ctx.db.read() as conn:
        return estimate_in(conn, ctx, ticket, ctx.clock.now())


def estimate_in(conn: Connection, ctx: Turnos, ticket: TicketView, now: dt.datetime
                ) -> int | None:
    """`estimate_for` inside a transaction the caller already has open."""
    if ticket.status is not TicketStatus.WAITING or ticket.position is None:
        return None
    open_counters = _open_counters(ctx, conn)[ticket.service]
    average = _average_service_minutes(ctx, conn, now).get(ticket.service)
    return estimated_wait_minutes(ticket.position, open_counters, average)


def _open_counters(ctx: Turnos, conn: Connection) -> dict[str, int]:
    open_ids = set(conn.execute(
        select(CounterRow.id).where(CounterRow.state == "open", CounterRow.active.is_(True))
    ).scalars())
    counts: dict[str, int] = defaultdict(int)
    for counter in ctx.config.counters:
        if counter.id in open_ids:
            for code in counter.services:
                counts[code] += 1
    return counts


def _average_service_minutes(ctx: Turnos, conn: Connection, now: dt.datetime
                             ) -> dict[str, float]:
    today = service_day(now, ctx.config.timezone)
    rows = conn.execute(
        select(T.service_code, T.first_called_at, T.finished_at)
        .where(T.day == today, T.status == TicketStatus.COMPLETED.value,
               T.first_called_at.is_not(None))
        .order_by(T.finished_at.desc())
        .limit(SAMPLE * max(1, len(ctx.config.services)))
    ).all()
    samples: dict[str, list[float]] = defaultdict(list)
    for code, called, finished in rows:
        if len(samples[code]) < SAMPLE:
            samples[code].append((finished - called).total_seconds() / 60)
    return {code: sum(values) / len(values) for code, values in samples.items()}
