"""Print jobs waiting for, or done by, a ticket printer; and what each printer last said."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UTCDateTime

JOB_KINDS = ("ticket", "test", "slip")
JOB_STATUSES = ("queued", "printing", "printed", "failed", "cancelled")
PRINTER_STATUSES = ("online", "paper_near_end", "paper_out", "offline", "unknown")


class PrintJob(Base):
    """One paper to print. The ticket is committed before or with its job, never after it;
    printing never changes the ticket."""

    __tablename__ = "print_jobs"
    __table_args__ = (
        CheckConstraint(f"kind IN {JOB_KINDS!r}", name="kind"),
        CheckConstraint(f"status IN {JOB_STATUSES!r}", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
        CheckConstraint("kind = 'test' OR ticket_id IS NOT NULL", name="ticket_job_has_ticket"),
        # The worker's question: which jobs are due now?
        Index("ix_print_jobs_due", "status", "next_attempt_at", "id"),
        Index("ix_print_jobs_printer", "printer_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for test pages.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # A printer id from config.toml (printers come and go with the file, so no foreign key).
    printer_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    # Everything needed to render the paper (the TicketPrint fields and the locale), so a
    # retry prints what the citizen was shown even if config.toml changed meanwhile.
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    printed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class PrinterState(Base):
    """The last thing a printer told us (or that we could not reach it), for dashboards."""

    __tablename__ = "printer_states"
    __table_args__ = (CheckConstraint(f"status IN {PRINTER_STATUSES!r}", name="status"),)

    printer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
