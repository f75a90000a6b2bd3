"""The append-only event log: every state change, numbered by one CSA-wide sequence."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_ticket", "ticket_id", "seq"),)

    # Assigned inside the writing transaction (PostgreSQL: from `sequences`; SQLite, whose
    # writers take turns: the rowid it gives the row, the highest plus one), so it is gap-free
    # and follows commit order: a client that saw seq N has seen everything before it.
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(40))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    service_code: Mapped[str | None] = mapped_column(String(40))
    counter_id: Mapped[str | None] = mapped_column(String(40))
    # Who did it: a token or account name, "system" for automatic moves.
    actor: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict] = mapped_column(JSON)


class Sequence(Base):
    """Named counters bumped inside transactions (the event seq)."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class DailyNumber(Base):
    """The last number handed out per service and service day."""

    __tablename__ = "daily_numbers"

    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)
