"""Printing tickets without ever holding up the kiosk: print jobs and printer states.

A ticket is committed first; its print job is an INSERT in the same transaction
(`enqueue_ticket_print`), so a ticket never loses its job and a job never outlives a rolled-back
ticket. The worker (server.services.print_worker) sends the jobs later. Printing never touches
the ticket: its number stays issued, the citizen has it on the kiosk screen with its QR code,
and managers see each printer's state here (`printer_states`, GET /api/v1/printers).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from printers.devices import PrinterDevice, PrinterError, PrinterStatus, device_for
from printers.layout import (
    TicketPrint,
    labels_for,
    render_receipt_slip,
    render_test_page,
    render_ticket,
)
from server.config_types import CsaConfig, Printer
from server.context import Turnos
from server.domain.numbering import service_day
from server.models import PrinterState, PrintJob
from server.services.views import TicketView

STATUS_TIMEOUT_SECONDS = 1.0
LOCAL_TIME_FORMAT = "%d/%m/%Y %H:%M"

_MESSAGES = {
    PrinterStatus.ONLINE: None,
    PrinterStatus.PAPER_NEAR_END: "paper is running out",
    PrinterStatus.PAPER_OUT: "out of paper",
    PrinterStatus.OFFLINE: "offline or unreachable",
    PrinterStatus.UNKNOWN: "the printer does not report its status; jobs are sent anyway",
}
_TICKET_FIELDS = tuple(f.name for f in fields(TicketPrint) if f.name != "labels")


# --- queueing -------------------------------------------------------------------------------

def ticket_payload(config: CsaConfig, ticket: TicketView, *, locale: str | None = None,
                   estimated_wait_minutes: int | None = None) -> dict[str, Any]:
    """What `enqueue_ticket_print` stores: the ticket as it will be printed."""
    locale = locale or config.default_locale
    service = config.service(ticket.service)
    service_name = (service.name_en or service.name) if locale == "en" else service.name
    return {
        "csa_name": config.name,
        "agency_name": config.agency(service.agency).name,
        "service_name": service_name,
        "number": ticket.number,
        "preferential": ticket.preferential,
        "issued_at_local": ticket.issued_at.astimezone(config.timezone).strftime(
            LOCAL_TIME_FORMAT),
        "position": ticket.position,
        "estimated_wait_minutes": estimated_wait_minutes,
        # The same address as server.api.serialize.follow_url (services cannot import the API).
        "follow_url": f"{config.base_url}/t/{ticket.follow_token}",
        "locale": locale,
    }


def enqueue_ticket_print(conn: Connection, *, ticket_id: int, printer_id: str,
                         payload: dict[str, Any], now: dt.datetime) -> int:
    """Queue the ticket's paper inside the caller's (issuing) transaction; only an INSERT."""
    return conn.execute(_INSERT_JOB, {
        "ticket_id": ticket_id, "printer_id": printer_id, "kind": "ticket", "payload": payload,
        "status": "queued", "attempts": 0, "created_at": now, "next_attempt_at": now,
    }).scalar_one()


def queue_test_page(ctx: Turnos, printer_id: str) -> int:
    """Queue a test page for one printer (KeyError if config.toml has no such printer)."""
    ctx.config.printer(printer_id)
    now = ctx.clock.now()
    payload = {
        "csa_name": ctx.config.name,
        "printed_at_local": now.astimezone(ctx.config.timezone).strftime(LOCAL_TIME_FORMAT),
        "qr_url": ctx.config.base_url,
    }
    with ctx.db.write() as conn:
        return conn.execute(_INSERT_JOB, {
            "ticket_id": None, "printer_id": printer_id, "kind": "test", "payload": payload,
            "status": "queued", "attempts": 0, "created_at": now, "next_attempt_at": now,
        }).scalar_one()


def cancel_job(ctx: Turnos, job_id: int, reason: str) -> bool:
    """Cancel a job that is still waiting; False if it was printed or settled meanwhile."""
    with ctx.db.write() as conn:
        return conn.execute(
            update(PrintJob).where(PrintJob.id == job_id, PrintJob.status == "queued")
            .values(status="cancelled", last_error=reason)
        ).rowcount == 1


def render_job(config: CsaConfig, printer: Printer, kind: str, payload: dict[str, Any],
               logo: bytes | None = None) -> bytes:
    """The ESC/POS bytes of one stored job."""
    if kind == "test":
        return render_test_page(printer.id, paper_width_mm=printer.paper_width_mm, **payload)
    if kind == "slip":
        return render_receipt_slip(paper_width_mm=printer.paper_width_mm, **payload)
    ticket = TicketPrint(**{name: payload[name] for name in _TICKET_FIELDS},
                         labels=labels_for(payload.get("locale", config.default_locale)))
    return render_ticket(ticket, paper_width_mm=printer.paper_width_mm, logo=logo)


# --- printer states -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PrinterView:
    id: str
    kind: str
    status: PrinterStatus
    message: str | None
    checked_at: dt.datetime | None
    # Waiting to print (or being printed right now).
    queued_jobs: int
    # Given up on since the CSA-local day began, when `on_give_up = "keep"`.
    failed_jobs: int


def printer_states(ctx: Turnos) -> list[PrinterView]:
    """Every configured printer with what it last said and its jobs, in config order."""
    now = ctx.clock.now()
    local_midnight = dt.datetime.combine(service_day(now, ctx.config.timezone), dt.time(0),
                                         tzinfo=ctx.config.timezone)
    with ctx.db.read() as conn:
        states = {row.printer_id: row for row in conn.execute(select(PrinterState))}
        counts = {
            (row.printer_id, row.status): row.count
            for row in conn.execute(_JOB_COUNTS, {"since": local_midnight.astimezone(dt.UTC)})
        }
    views = []
    for printer in ctx.config.printers:
        state = states.get(printer.id)
        views.append(PrinterView(
            id=printer.id,
            kind=printer.kind.value,
            status=PrinterStatus(state.status) if state else PrinterStatus.UNKNOWN,
            message=state.message if state else "not checked yet",
            checked_at=state.checked_at if state else None,
            queued_jobs=counts.get((printer.id, "queued"), 0)
            + counts.get((printer.id, "printing"), 0),
            failed_jobs=counts.get((printer.id, "failed"), 0),
        ))
    return views


def check_printers(ctx: Turnos, *, timeout: float = STATUS_TIMEOUT_SECONDS,
                   devices: Callable[[Printer], PrinterDevice] = device_for) -> list[PrinterView]:
    """Ask every printer how it is now, record the answers, and return the new states."""
    for printer in ctx.config.printers:
        status, message = ask_device(devices(printer), timeout)
        record_state(ctx, printer.id, status, message)
    return printer_states(ctx)


def ask_device(device: PrinterDevice, timeout: float) -> tuple[PrinterStatus, str | None]:
    try:
        status = device.status(timeout)
    except PrinterError as error:
        return error.status, error.message
    return status, _MESSAGES[status]


def record_state(ctx: Turnos, printer_id: str, status: PrinterStatus,
                  message: str | None) -> None:
    with ctx.db.write() as conn:
        conn.execute(_UPSERT_STATE[conn.dialect.name], {
            "printer_id": printer_id, "status": status.value, "message": message,
            "checked_at": ctx.clock.now(),
        })


# --- statements, built once -----------------------------------------------------------------

J = PrintJob.__table__.c

_INSERT_JOB = insert(PrintJob.__table__).returning(J.id)
_JOB_COUNTS = select(J.printer_id, J.status, func.count().label("count")).where(
    (J.status.in_(("queued", "printing")))
    | ((J.status == "failed") & (J.created_at >= bindparam("since")))
).group_by(J.printer_id, J.status)


def _upsert_state(dialect):
    table = PrinterState.__table__
    statement = dialect.insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.printer_id],
        set_={"status": statement.excluded.status, "message": statement.excluded.message,
              "checked_at": statement.excluded.checked_at},
    )


_UPSERT_STATE = {"sqlite": _upsert_state(sqlite), "postgresql": _upsert_state(postgresql)}
