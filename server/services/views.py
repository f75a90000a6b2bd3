"""Read models: what services hand back to views, built from rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, func, or_, select

from server.domain.tickets import TicketStatus
from server.models import Ticket

T = Ticket.__table__.c


@dataclass(frozen=True, slots=True)
class TicketView:
    id: int
    number: str
    service: str
    status: TicketStatus
    preferential: bool
    preferential_reason: str | None
    issued_at: dt.datetime
    called_at: dt.datetime | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    counter: str | None
    target_counter: str | None
    recall_count: int
    outcome: str | None
    folio: str | None
    follow_token: str
    day: dt.date
    # 1-based place among those waiting for the same service; None unless waiting.
    position: int | None = None

    def event_payload(self) -> dict[str, Any]:
        """The ticket as screens see it in events: no follow token, no notes."""
        return {
            "ticket": {
                "id": self.id,
                "number": self.number,
                "service": self.service,
                "status": self.status.value,
                "preferential": self.preferential,
                "counter": self.counter,
                "recall_count": self.recall_count,
            }
        }


def ticket_view(row: Row, *, position: int | None = None) -> TicketView:
    return TicketView(
        id=row.id, number=row.number, service=row.service_code,
        status=TicketStatus(row.status), preferential=row.preferential,
        preferential_reason=row.preferential_reason, issued_at=row.issued_at,
        called_at=row.called_at, started_at=row.started_at, finished_at=row.finished_at,
        counter=row.counter_id, target_counter=row.target_counter_id,
        recall_count=row.recall_count, outcome=row.outcome, folio=row.folio,
        follow_token=row.follow_token, day=row.day, position=position,
    )


def waiting_position(conn: Connection, row: Row) -> int | None:
    """Place in line, counting who goes first under "preferential first" (see domain.policy)."""
    if row.status != TicketStatus.WAITING.value:
        return None
    same_queue = and_(
        T.status == TicketStatus.WAITING.value,
        T.service_code == row.service_code,
        T.id != row.id,
    )
    if row.target_counter_id is not None:
        same_queue = and_(same_queue, T.target_counter_id == row.target_counter_id)
        ahead = or_(T.front > row.front, and_(T.front == row.front, _older(row)))
    else:
        same_queue = and_(same_queue, T.target_counter_id.is_(None))
        if row.front:
            ahead = and_(T.front.is_(True), _older(row))
        elif row.preferential:
            ahead = or_(T.front.is_(True), and_(T.preferential.is_(True), _older(row)))
        else:
            ahead = or_(T.front.is_(True), T.preferential.is_(True), _older(row))
    count = conn.execute(select(func.count()).where(same_queue, ahead)).scalar_one()
    return count + 1


def _older(row: Row):
    return or_(T.queued_at < row.queued_at, and_(T.queued_at == row.queued_at, T.id < row.id))


def load_ticket(conn: Connection, ticket_id: int, *, for_update: bool = False) -> Row | None:
    query = select(Ticket.__table__).where(T.id == ticket_id)
    if for_update:
        query = query.with_for_update()
    return conn.execute(query).first()
