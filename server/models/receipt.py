"""Signed receipts of completed tickets: the signing job, and where its PDF is kept."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime

RECEIPT_STATUSES = ("pending", "signed", "failed", "expired")


class Receipt(Base):
    """One completed ticket's receipt. The row is written in the completion's transaction
    (status pending); a worker signs the PDF later, stores it in the receipt file store and
    records its SHA-256 here. Past the retention period the file is deleted and the row says
    expired; the folio and hash stay, so a citizen's own copy can still be checked."""

    __tablename__ = "receipts"
    __table_args__ = (
        CheckConstraint(f"status IN {RECEIPT_STATUSES!r}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("status != 'signed' OR sha256 IS NOT NULL", name="signed_has_hash"),
        # The worker's question: which receipts are due for signing now?
        Index("ix_receipts_due", "status", "next_attempt_at", "id"),
        # The batch's: every receipt of one CSA-local day.
        Index("ix_receipts_day", "day", "id"),
        # The counter screen's: the receipt this counter produced last.
        Index("ix_receipts_counter", "counter_id", "id"),
        # The retention sweep's.
        Index("ix_receipts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Public, random, unique: see server.domain.receipt_folio.
    folio: Mapped[str] = mapped_column(String(19), unique=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    # CSA-local day the service was completed: `turnos receipts sign --day` selects by it.
    day: Mapped[dt.date] = mapped_column(Date)
    counter_id: Mapped[str | None] = mapped_column(String(40))
    # The account that completed the ticket (its name shows only if config.toml says so).
    actor: Mapped[str | None] = mapped_column(String(80))
    # Language of the receipt: the CSA's default at completion.
    locale: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # Of the stored PDF, in hex; kept after expiry.
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None]
