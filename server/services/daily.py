"""Closing the day: tickets left open when the service day ends are cancelled."""

from __future__ import annotations

from sqlalchemy import select

from server.context import Turnos
from server.domain.numbering import service_day
from server.domain.tickets import TicketStatus
from server.models import Ticket
from server.services import calling

OPEN_STATUSES = (TicketStatus.WAITING.value, TicketStatus.CALLED.value,
                 TicketStatus.SERVING.value)
DAY_CLOSED = "day_closed"


def close_previous_days(ctx: Turnos) -> int:
    """Cancel every ticket of an earlier service day that is still open; returns how many.

    Numbers restart each day, so yesterday's A-007 must not linger in today's queue or
    hold a counter; the cancellation is logged like any other, with the reason day_closed.
    """
    today = service_day(ctx.clock.now(), ctx.config.timezone)
    with ctx.db.read() as conn:
        stale = conn.execute(
            select(Ticket.id).where(Ticket.day < today, Ticket.status.in_(OPEN_STATUSES))
        ).scalars().all()
    for ticket_id in stale:
        calling.cancel(ctx, ticket_id, actor="system", reason=DAY_CLOSED)
    return len(stale)
