"""Appending to the event log and reading it back."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from server.models import Event
from server.models import Sequence as SeqRow
from server.prepared import Prepared

EVENT_SEQ = "events"


@dataclass(frozen=True, slots=True)
class EventDraft:
    type: str
    at: dt.datetime
    ticket_id: int | None
    service_code: str | None
    counter_id: str | None
    actor: str | None
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PublishedEvent:
    seq: int
    type: str
    at: dt.datetime
    ticket_id: int | None
    service_code: str | None
    counter_id: str | None
    actor: str | None
    payload: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """What clients receive."""
        return {"seq": self.seq, "type": self.type, "at": self.at.isoformat(), **self.payload}


def append(conn: Connection, drafts: Sequence[EventDraft]) -> list[PublishedEvent]:
    """Number and store `drafts`; call last in a transaction, so that PostgreSQL holds the
    seq row briefly."""
    if not drafts:
        return []
    if conn.dialect.name == "sqlite":
        # One writer at a time (BEGIN IMMEDIATE), and seq is the table's rowid: given NULL,
        # SQLite numbers the row the highest stored plus one, which the insert hands back.
        # Advancing a counter row as PostgreSQL's concurrent writers must would cost every
        # write one more page change inside its turn, and reading the highest first one more
        # statement.
        return [_published(_INSERT.execute(conn, _row(None, d)).lastrowid, d) for d in drafts]
    top = _ADVANCE.execute(conn, {"sequence_name": EVENT_SEQ, "count": len(drafts)}
                           ).scalar_one()
    published = [_published(top - len(drafts) + 1 + i, d) for i, d in enumerate(drafts)]
    conn.execute(_INSERT.statement, [_row(e.seq, e) for e in published])
    return published


def _published(seq: int, draft: EventDraft) -> PublishedEvent:
    return PublishedEvent(seq, draft.type, draft.at, draft.ticket_id, draft.service_code,
                          draft.counter_id, draft.actor, draft.payload)


def _row(seq: int | None, event: EventDraft | PublishedEvent) -> dict[str, Any]:
    return {"seq": seq, "type": event.type, "at": event.at, "ticket_id": event.ticket_id,
            "service_code": event.service_code, "counter_id": event.counter_id,
            "actor": event.actor, "payload": event.payload}


# Built once and run as Prepared statements: building these per event, and SQLAlchemy's
# execution machinery, cost more than running them (docs/performance.md).
_SEQ = SeqRow.__table__
_ADVANCE = Prepared(
    update(_SEQ)
    .where(_SEQ.c.name == bindparam("sequence_name"))
    .values(value=_SEQ.c.value + bindparam("count"))
    .returning(_SEQ.c.value)
)
_INSERT = Prepared(insert(Event.__table__))
_NEXT_STORED = Prepared(select(func.coalesce(func.max(Event.__table__.c.seq), 0) + 1))


def ensure_sequence(conn: Connection) -> None:
    """Create the seq row once; continue after the highest stored event if it was lost.

    (PostgreSQL's writers advance it; on SQLite the events table itself says where it is.)"""
    exists = conn.execute(select(SeqRow.value).where(SeqRow.name == EVENT_SEQ)).scalar()
    if exists is None:
        top = conn.execute(select(func.coalesce(func.max(Event.seq), 0))).scalar_one()
        conn.execute(insert(SeqRow).values(name=EVENT_SEQ, value=top))


def current_seq(conn: Connection) -> int:
    """The seq of the newest stored event (0 before the first)."""
    if conn.dialect.name == "sqlite":
        return _NEXT_STORED.execute(conn).scalar_one() - 1
    return conn.execute(select(SeqRow.value).where(SeqRow.name == EVENT_SEQ)).scalar() or 0


def since(conn: Connection, after: int, *, limit: int) -> list[PublishedEvent]:
    """Stored events with seq > after, oldest first, at most `limit`."""
    # Prepared: with several server processes every hub reads the others' events this way.
    rows = _SINCE.execute(conn, {"after": after, "limit": limit}).all()
    return [
        PublishedEvent(r.seq, r.type, r.at, r.ticket_id, r.service_code, r.counter_id, r.actor,
                       r.payload)
        for r in rows
    ]


_E = Event.__table__.c
_SINCE = Prepared(
    select(_E.seq, _E.type, _E.at, _E.ticket_id, _E.service_code, _E.counter_id, _E.actor,
           _E.payload)
    .where(_E.seq > bindparam("after")).order_by(_E.seq).limit(bindparam("limit"))
)
