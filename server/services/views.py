"""Read models: what services hand back to views, built from rows."""

from __future__ import annotations

import datetime as dt
from collections import namedtuple
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select, true

from server.domain.tickets import TicketStatus
from server.models import Ticket
from server.models.queue_length import queue_lengths
from server.prepared import Prepared

T = Ticket.__table__.c
Q = queue_lengths.c


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


def ticket_view(row: Row | TicketRow, *, position: int | None = None) -> TicketView:
    return TicketView(
        id=row.id, number=row.number, service=row.service_code,
        status=TicketStatus(row.status), preferential=row.preferential,
        preferential_reason=row.preferential_reason, issued_at=row.issued_at,
        called_at=row.called_at, started_at=row.started_at, finished_at=row.finished_at,
        counter=row.counter_id, target_counter=row.target_counter_id,
        recall_count=row.recall_count, outcome=row.outcome, folio=row.folio,
        follow_token=row.follow_token, day=row.day, position=position,
    )


def waiting_position(conn: Connection, row: Row | TicketRow) -> int | None:
    """Place in line, counting who goes first under "preferential first" (see domain.policy)."""
    if row.status != TicketStatus.WAITING.value:
        return None
    if row.target_counter_id is not None:
        query = _AHEAD_OF_TARGETED
    elif conn.dialect.name == "sqlite":
        return _place_from_queue_lengths(conn, row)
    elif row.front:
        query = _AHEAD_OF_FRONT
    elif row.preferential:
        query = _AHEAD_OF_PREFERENTIAL
    else:
        query = _AHEAD_OF_REGULAR
    count = query.execute(conn, {
        "service": row.service_code, "day": row.day, "id": row.id, "queued_at": row.queued_at,
        "front": row.front, "target": row.target_counter_id,
    }).scalar_one()
    return count + 1


def _place_from_queue_lengths(conn: Connection, row: Row | TicketRow) -> int:
    """The same place, from the counts SQLite's triggers keep (models.queue_length): everyone
    waiting in the groups up to and including the ticket's own, less those of its group queued
    at or after it (itself included while it still waits). Those are few: a seek, not a walk.
    """
    if row.front:
        query = _PLACE_OF_FRONT
    elif row.preferential:
        query = _PLACE_OF_PREFERENTIAL
    else:
        query = _PLACE_OF_REGULAR
    return query.execute(conn, {
        "service": row.service_code, "day": row.day, "id": row.id, "queued_at": row.queued_at,
    }).scalar_one() + 1


# A ticket row built in Python, with the columns of the table in order, as a read returns it.
TicketRow = namedtuple("TicketRow", [c.key for c in Ticket.__table__.c])  # type: ignore[misc]


def ticket_row(values: Mapping[str, Any]) -> TicketRow:
    """The row a write leaves, from what it wrote: the columns it did not name are NULL.

    Asking the database to RETURN every column of the row it just wrote cost SQLite more than
    the write itself (docs/performance.md); the writer knows all of it anyway. Times come back
    in UTC, as the database would hand them back.
    """
    return TicketRow(**{
        key: (_in_utc(values[key]) if key in values else None) for key in TicketRow._fields
    })


def changed_row(row: Row | TicketRow, changes: Mapping[str, Any]) -> TicketRow:
    """`row`, read and locked in this transaction, after an UPDATE that set `changes`."""
    return ticket_row({**row._asdict(), **changes})


def _in_utc(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not dt.UTC:
        return value.astimezone(dt.UTC)
    return value


def load_ticket(conn: Connection, ticket_id: int, *, for_update: bool = False) -> Row | None:
    query = _TICKET_FOR_UPDATE if for_update else _TICKET
    return query.execute(conn, {"ticket_id": ticket_id}).first()


# The statements are built once, with bound parameters, rather than per call: building and
# fingerprinting an expression costs more than running it, and they run as Prepared
# statements (see docs/performance.md).

def _ahead(ahead, *, targeted: bool):
    """Waiting tickets of the same queue that `ahead` puts before the one asked about."""
    queue = (T.target_counter_id == bindparam("target") if targeted
             else T.target_counter_id.is_(None))
    return Prepared(select(func.count()).where(
        T.status == TicketStatus.WAITING.value,
        T.service_code == bindparam("service"),
        # Yesterday's leftovers are never called (and the day-close sweep cancels them).
        T.day == bindparam("day"),
        T.id != bindparam("id"),
        queue,
        ahead,
    ))


_OLDER = or_(
    T.queued_at < bindparam("queued_at"),
    and_(T.queued_at == bindparam("queued_at"), T.id < bindparam("id")),
)
_AHEAD_OF_TARGETED = _ahead(
    or_(T.front > bindparam("front"), and_(T.front == bindparam("front"), _OLDER)),
    targeted=True,
)


def _in_group(preferential: bool, front: bool) -> list:
    """Untargeted tickets waiting today in one (class, front) group of the service's queue:
    one range of ix_tickets_queue. (One OR over the groups would make SQLite test every entry
    instead.)"""
    return [
        T.status == TicketStatus.WAITING.value,
        T.service_code == bindparam("service"),
        T.target_counter_id.is_(None),
        # Yesterday's leftovers are never called (and the day-close sweep cancels them).
        T.day == bindparam("day"),
        T.preferential.is_(preferential),
        T.front.is_(front),
    ]


def _group(preferential: bool, front: bool, *, older: bool):
    """The tickets of one group, or of those in it queued before the ticket asked about,
    counted from the index alone."""
    where = _in_group(preferential, front)
    if not older:
        return [select(func.count()).where(*where).scalar_subquery()]
    # Queued earlier; or at the same instant with a lower id: two seeks instead of an OR.
    return [
        select(func.count()).where(*where, T.queued_at < bindparam("queued_at"))
        .scalar_subquery(),
        select(func.count()).where(*where, T.queued_at == bindparam("queued_at"),
                                   T.id < bindparam("id")).scalar_subquery(),
    ]


def _sum(*groups: list) -> Prepared:
    counts = [count for group in groups for count in group]
    total = counts[0]
    for count in counts[1:]:
        total = total + count
    return Prepared(select(total))


# Who goes first, as domain.policy orders a service's untargeted queue: front tickets
# (transferred to the front) by time, then preferential ones by time, then the rest by time.
_AHEAD_OF_FRONT = _sum(_group(False, True, older=True), _group(True, True, older=True))
_AHEAD_OF_PREFERENTIAL = _sum(
    _group(False, True, older=False), _group(True, True, older=False),
    _group(True, False, older=True),
)
_AHEAD_OF_REGULAR = _sum(
    _group(False, True, older=False), _group(True, True, older=False),
    _group(True, False, older=False), _group(False, False, older=True),
)


def _waiting_through(groups):
    """Untargeted tickets waiting today in the service's groups that `groups` selects."""
    return select(func.coalesce(func.sum(Q.waiting), 0)).where(
        Q.service_code == bindparam("service"), Q.day == bindparam("day"), groups
    ).scalar_subquery()


def _queued_at_or_after(*classes: tuple[bool, bool]) -> list:
    """The tickets of these groups queued at or after the ticket asked about (itself too)."""
    return [
        select(func.count()).where(*_in_group(preferential, front), later).scalar_subquery()
        for preferential, front in classes
        for later in (T.queued_at > bindparam("queued_at"),
                      and_(T.queued_at == bindparam("queued_at"), T.id >= bindparam("id")))
    ]


def _place(groups, *my_group: tuple[bool, bool]) -> Prepared:
    total = _waiting_through(groups)
    for count in _queued_at_or_after(*my_group):
        total = total - count
    return Prepared(select(total))


# The groups in the order of _AHEAD_OF_*: front tickets of both classes share one line.
_PLACE_OF_FRONT = _place(Q.front.is_(True), (False, True), (True, True))
_PLACE_OF_PREFERENTIAL = _place(or_(Q.front.is_(True), Q.preferential.is_(True)), (True, False))
_PLACE_OF_REGULAR = _place(true(), (False, False))
_TICKET = Prepared(select(Ticket.__table__).where(T.id == bindparam("ticket_id")))
_TICKET_FOR_UPDATE = Prepared(_TICKET.statement.with_for_update())
