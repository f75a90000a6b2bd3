"""Read-only questions screens and the API ask: tickets, queues, counters."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from server.context import Turnos
from server.domain.errors import NotFound
from server.domain.numbering import service_day
from server.domain.tickets import TicketStatus
from server.models import CounterRow, Ticket
from server.prepared import Prepared
from server.services.views import TicketView, load_ticket, ticket_view, waiting_position

T = Ticket.__table__.c


@dataclass(frozen=True, slots=True)
class QueueStats:
    service: str
    waiting: int
    waiting_preferential: int
    # Since the oldest waiting ticket was issued; None when nobody waits.
    oldest_wait_seconds: int | None


@dataclass(frozen=True, slots=True)
class CounterStatus:
    id: str
    name: str
    agency: str
    services: tuple[str, ...]
    state: str
    # Number and id of the ticket it is calling or serving, if any.
    current_ticket: str | None
    current_ticket_id: int | None


def get_ticket(ctx: Turnos, ticket_id: int) -> TicketView:
    with ctx.db.read() as conn:
        row = load_ticket(conn, ticket_id)
        if row is None:
            raise NotFound(f"there is no ticket {ticket_id}")
        return ticket_view(row, position=waiting_position(conn, row))


def ticket_by_follow_token(ctx: Turnos, token: str) -> TicketView:
    with ctx.db.read() as conn:
        row = conn.execute(select(Ticket.__table__).where(T.follow_token == token)).first()
        if row is None:
            raise NotFound("no ticket has that link")
        return ticket_view(row, position=waiting_position(conn, row))


def queues(ctx: Turnos) -> list[QueueStats]:
    """Waiting count and oldest wait of every service today, in config order."""
    now = ctx.clock.now()
    today = service_day(now, ctx.config.timezone)
    with ctx.db.read() as conn:
        rows = _QUEUES.execute(conn, {"today": today}).all()
    found = {r[0]: r for r in rows}
    stats = []
    for service in ctx.config.services:
        row = found.get(service.code)
        if row is None:
            stats.append(QueueStats(service.code, 0, 0, None))
            continue
        oldest = _as_utc(row[3])
        stats.append(QueueStats(service.code, row[1], int(row[2] or 0),
                                max(0, int((now - oldest).total_seconds()))))
    return stats


# Read from ix_tickets_queue alone (status, service, ..., day, preferential, ..., issued_at), in
# service order: the hub runs this up to four times a second, whatever the queues' length.
_QUEUES = Prepared(
    select(
        T.service_code,
        func.count(),
        func.sum(func.cast(T.preferential, Ticket.__table__.c.sequence.type)),
        func.min(T.issued_at),
    )
    .where(T.status == TicketStatus.WAITING.value, T.day == bindparam("today"))
    .group_by(T.service_code)
)


def counters(ctx: Turnos) -> list[CounterStatus]:
    with ctx.db.read() as conn:
        states = dict(conn.execute(select(CounterRow.id, CounterRow.state)).all())
        holding = {
            row.counter_id: row
            for row in conn.execute(
                select(T.counter_id, T.number, T.id).where(
                    T.status.in_((TicketStatus.CALLED.value, TicketStatus.SERVING.value))
                )
            )
        }
    return [
        CounterStatus(c.id, c.name, c.agency, c.services, states.get(c.id, "closed"),
                      holding[c.id].number if c.id in holding else None,
                      holding[c.id].id if c.id in holding else None)
        for c in ctx.config.counters
    ]


def _as_utc(value: dt.datetime) -> dt.datetime:
    # Aggregates bypass the column type, so SQLite hands back naive UTC (or even text).
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, slots=True)
class NextTicket:
    id: int
    number: str
    preferential: bool
    issued_at: dt.datetime


def next_waiting(ctx: Turnos, service: str, *, limit: int = 5) -> list[NextTicket]:
    """The first tickets in line for a service today, as a counter screen lists them:
    transferred-to-front first, then preferential, then by time (see domain.policy.position)."""
    today = service_day(ctx.clock.now(), ctx.config.timezone)
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(T.id, T.number, T.preferential, T.issued_at)
            .where(T.status == TicketStatus.WAITING.value, T.day == today,
                   T.service_code == service, T.target_counter_id.is_(None))
            .order_by(T.front.desc(), T.preferential.desc(), T.queued_at, T.id)
            .limit(limit)
        ).all()
    return [NextTicket(r.id, r.number, r.preferential, r.issued_at) for r in rows]
