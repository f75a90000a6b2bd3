"""The ticket: one citizen's turn for one service."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.domain.tickets import Outcome, TicketStatus
from server.models.base import Base, UTCDateTime

_STATUSES = tuple(s.value for s in TicketStatus)
_OUTCOMES = tuple(o.value for o in Outcome)
_REASONS = ("senior", "pregnancy", "disability")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        # The number belongs to the service that issued it, wherever a transfer moves it.
        UniqueConstraint("issued_service_code", "day", "sequence", name="uq_tickets_number"),
        CheckConstraint(f"status IN {_STATUSES!r}", name="status"),
        CheckConstraint(f"outcome IS NULL OR outcome IN {_OUTCOMES!r}", name="outcome"),
        CheckConstraint(
            f"preferential_reason IS NULL OR preferential_reason IN {_REASONS!r}", name="reason"
        ),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("recall_count >= 0", name="recalls"),
        # Called and serving tickets must say which counter holds them.
        CheckConstraint(
            "status NOT IN ('called', 'serving') OR counter_id IS NOT NULL", name="held"
        ),
        # Queues: call-next seeks the oldest ticket of each (service, class, front) group here,
        # and a waiting ticket's position and the per-service queue counts are counted from
        # here without reading rows (hence day and issued_at; migration 0008).
        Index("ix_tickets_queue", "status", "service_code", "target_counter_id", "day",
              "preferential", "front", "queued_at", "id", "issued_at"),
        # Tickets a transfer sent to one counter: few, so only those rows are indexed; with the
        # columns call-next reads, so that SQLite prefers it to scanning ix_tickets_queue.
        Index(
            "ix_tickets_targeted",
            "target_counter_id",
            "status",
            "day",
            "service_code",
            "preferential",
            "front",
            "queued_at",
            sqlite_where=text("target_counter_id IS NOT NULL"),
            postgresql_where=text("target_counter_id IS NOT NULL"),
        ),
        Index("ix_tickets_day", "day", "service_code"),
        # One called/serving ticket per counter at a time.
        Index(
            "uq_tickets_active_counter",
            "counter_id",
            unique=True,
            sqlite_where=text("status IN ('called', 'serving')"),
            postgresql_where=text("status IN ('called', 'serving')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unguessable handle for the citizen's follow page; the sequential id is never public.
    follow_token: Mapped[str] = mapped_column(String(32), unique=True)
    # The queue the ticket is in now; transfers change it.
    service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    # The service whose letter and count the printed number carries; never changes.
    issued_service_code: Mapped[str] = mapped_column(ForeignKey("services.code"))
    # Service (CSA-local) day the number belongs to, and its sequence within the day.
    day: Mapped[dt.date] = mapped_column(Date)
    sequence: Mapped[int]
    number: Mapped[str] = mapped_column(String(12))
    preferential: Mapped[bool] = mapped_column(default=False)
    preferential_reason: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=TicketStatus.WAITING.value)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # Ordering key in the queue: issue time, or the original one after a transfer.
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    front: Mapped[bool] = mapped_column(default=False)
    target_counter_id: Mapped[str | None] = mapped_column(ForeignKey("counters.id"))
    counter_id: Mapped[str | None] = mapped_column(ForeignKey("counters.id"))
    first_called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    called_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    recall_count: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(12))
    folio: Mapped[str | None] = mapped_column(String(60))
    note: Mapped[str | None] = mapped_column(Text)
    transfer_count: Mapped[int] = mapped_column(default=0)
    # Which device or account issued it (a token name), for statistics per kiosk.
    issued_by: Mapped[str | None] = mapped_column(String(80))
