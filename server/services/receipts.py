"""Citizens' signed receipts: recorded with the completion, stored as files, looked up by folio.

A completed ticket gets a receipt row in the completion's own transaction (`record_completion`,
an INSERT only): status pending. The receipt worker (server.services.receipt_worker) renders and
signs the PDF afterwards, so completing a ticket never waits for a signature.

Where the PDFs live: files under `[receipts]` storage directory, one per receipt
(`YYYY/MM/DD/<folio>.pdf`), with the SHA-256 and size in the database. A busy CSA produces
~2,000 receipts of tens of kilobytes a day; kept for months in the database they would grow
it by gigabytes, slow its backups and make every group commit of SQLite's single writer
carry them. Files cost nothing to serve, and expiring one is an unlink. The database keeps
the hash, so a file that changed on disk is noticed (`StoredPdf.intact`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, bindparam, insert, select, update

from server.config_types import CsaConfig
from server.context import Turnos
from server.domain.numbering import service_day
from server.domain.receipt_folio import new_folio, normalize_folio
from server.models import Receipt, StaffUser, Ticket

if TYPE_CHECKING:  # the PDF library loads pyHanko: only the worker and the verify views need it
    from server.receipts.document import ReceiptContent

R = Receipt.__table__.c
T = Ticket.__table__.c

# A receipt PDF is one page of tens of kilobytes; anything far larger is not one of ours.
MAX_UPLOAD_BYTES = 2 * 1024 * 1024
# The counter screen offers the QR of its last receipt this long after the completion.
COUNTER_RECEIPT_MINUTES = 15


# --- recording ------------------------------------------------------------------------------

def enabled(config: CsaConfig) -> bool:
    receipts = getattr(config, "receipts", None)
    return bool(receipts is not None and receipts.enabled)


def record_completion(conn: Connection, config: CsaConfig, row: Row, *, now: dt.datetime,
                      actor: str | None) -> str | None:
    """Queue the receipt of the ticket `row` just completed, inside that transaction."""
    if not enabled(config):
        return None
    folio = new_folio()
    conn.execute(_INSERT, {
        "folio": folio, "ticket_id": row.id, "day": service_day(now, config.timezone),
        "counter_id": row.counter_id, "actor": actor, "locale": config.default_locale,
        "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now,
    })
    return folio


# --- the file store -------------------------------------------------------------------------

def storage_root(config: CsaConfig) -> Path:
    return Path(config.receipts.storage_dir)


def pdf_path(root: Path, day: dt.date, folio: str) -> Path:
    return root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / f"{folio}.pdf"


def write_temporary(root: Path, day: dt.date, folio: str, pdf: bytes) -> Path:
    """Write `pdf` next to where it belongs, under a temporary name (renamed once recorded)."""
    final = pdf_path(root, day, folio)
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{folio}.", suffix=".tmp", dir=final.parent)
    with os.fdopen(fd, "wb") as out:
        out.write(pdf)
        out.flush()
        os.fsync(out.fileno())
    return Path(name)


@dataclass(frozen=True, slots=True)
class StoredPdf:
    data: bytes
    intact: bool


def read_pdf(config: CsaConfig, receipt: ReceiptView) -> StoredPdf | None:
    """The stored PDF of a signed receipt, and whether it still has its recorded hash."""
    if receipt.status != "signed" or receipt.sha256 is None:
        return None
    try:
        data = pdf_path(storage_root(config), receipt.day, receipt.folio).read_bytes()
    except OSError:
        return None
    return StoredPdf(data, hashlib.sha256(data).hexdigest() == receipt.sha256)


# --- reading --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ReceiptView:
    folio: str
    status: str
    ticket_id: int
    day: dt.date
    counter_id: str | None
    actor: str | None
    locale: str
    created_at: dt.datetime
    signed_at: dt.datetime | None
    sha256: str | None
    size_bytes: int | None
    attempts: int
    last_error: str | None
    # When the stored PDF is (or was) deleted.
    expires_at: dt.datetime


def receipt_view(config: CsaConfig, row: Row | Any) -> ReceiptView:
    return ReceiptView(
        folio=row.folio, status=row.status, ticket_id=row.ticket_id, day=row.day,
        counter_id=row.counter_id, actor=row.actor, locale=row.locale,
        created_at=row.created_at, signed_at=row.signed_at, sha256=row.sha256,
        size_bytes=row.size_bytes, attempts=row.attempts, last_error=row.last_error,
        expires_at=row.created_at + dt.timedelta(days=config.receipts.retention_days),
    )


def by_folio(ctx: Turnos, text: str) -> ReceiptView | None:
    """The receipt a folio (as typed by a person) names, or None."""
    folio = normalize_folio(text)
    if folio is None:
        return None
    with ctx.db.read() as conn:
        row = conn.execute(_BY_FOLIO, {"folio": folio}).first()
    return receipt_view(ctx.config, row) if row else None


def for_ticket(ctx: Turnos, ticket_id: int) -> ReceiptView | None:
    with ctx.db.read() as conn:
        row = conn.execute(_BY_TICKET, {"ticket_id": ticket_id}).first()
    return receipt_view(ctx.config, row) if row else None


def latest_for_counter(ctx: Turnos, counter_id: str) -> ReceiptView | None:
    """The receipt this counter produced last, if that was in the last few minutes."""
    with ctx.db.read() as conn:
        row = conn.execute(_LATEST_FOR_COUNTER, {"counter": counter_id}).first()
    if row is None:
        return None
    if ctx.clock.now() - row.created_at > dt.timedelta(minutes=COUNTER_RECEIPT_MINUTES):
        return None
    return receipt_view(ctx.config, row)


def facts(ctx: Turnos, receipt: ReceiptView) -> ReceiptContent:
    with ctx.db.read() as conn:
        return facts_from(ctx.config, conn, receipt)


def facts_from(config: CsaConfig, conn: Connection, receipt: ReceiptView | Row) -> ReceiptContent:
    """The receipt's contents from its ticket, the catalog and (if shown) the clerk's name."""
    ticket = conn.execute(_TICKET, {"ticket_id": receipt.ticket_id}).one()
    staff_name = None
    if config.receipts.show_staff_name and receipt.actor:
        staff_name = conn.execute(_STAFF_NAME, {"username": receipt.actor}).scalar()
    return facts_of(config, ticket, receipt, staff_name)


def facts_of(config: CsaConfig, ticket: Row | Any, receipt: ReceiptView | Row | Any,
             staff_name: str | None) -> ReceiptContent:
    from server.receipts.document import ReceiptContent

    service = config.service(ticket.service_code)
    english = receipt.locale == "en"
    counter_id = receipt.counter_id or ticket.counter_id
    try:
        counter_name = config.counter(counter_id).name if counter_id else None
    except KeyError:  # a counter since removed from config.toml
        counter_name = counter_id
    return ReceiptContent(
        receipt_folio=receipt.folio,
        csa_name=config.name,
        agency_name=config.agency(service.agency).name,
        service_code=service.code,
        service_name=(service.name_en or service.name) if english else service.name,
        ticket_number=ticket.number,
        counter_name=counter_name,
        staff_name=staff_name,
        issued_at=ticket.issued_at,
        called_at=ticket.first_called_at or ticket.called_at,
        started_at=ticket.started_at,
        completed_at=ticket.finished_at or receipt.created_at,
        outcome=ticket.outcome or "resolved",
        procedure_folio=ticket.folio,
        note=ticket.note,
        verify_url=verify_url(config, receipt.folio),
        timezone=config.timezone,
        locale=receipt.locale,
    )


def verify_url(config: CsaConfig, folio: str) -> str:
    # The same address as the verify blueprint's page (services cannot import views).
    return f"{config.base_url}/verify/{folio}"


# --- the counter's slip ---------------------------------------------------------------------

def queue_slip(ctx: Turnos, receipt: ReceiptView, printer_id: str) -> int:
    """Queue a short slip (folio and QR) at a counter's printer; the print worker sends it."""
    from server.models import PrintJob
    from server.services.printing import LOCAL_TIME_FORMAT

    ctx.config.printer(printer_id)  # KeyError for a printer config.toml lacks
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        ticket = conn.execute(_TICKET, {"ticket_id": receipt.ticket_id}).one()
        completed = (ticket.finished_at or receipt.created_at).astimezone(ctx.config.timezone)
        payload = {
            "csa_name": ctx.config.name, "ticket_number": ticket.number,
            "receipt_folio": receipt.folio, "verify_url": verify_url(ctx.config, receipt.folio),
            "completed_at_local": completed.strftime(LOCAL_TIME_FORMAT),
            "locale": receipt.locale,
        }
        return conn.execute(insert(PrintJob.__table__).returning(PrintJob.id), {
            "ticket_id": receipt.ticket_id, "printer_id": printer_id, "kind": "slip",
            "payload": payload, "status": "queued", "attempts": 0, "created_at": now,
            "next_attempt_at": now,
        }).scalar_one()


# --- retention ------------------------------------------------------------------------------

def sweep_expired(ctx: Turnos, *, limit: int = 500) -> int:
    """Delete the PDFs kept past `retention_days`; their rows say expired. Returns how many."""
    now = ctx.clock.now()
    cutoff = now - dt.timedelta(days=ctx.config.receipts.retention_days)
    root = storage_root(ctx.config)
    with ctx.db.read() as conn:
        rows = conn.execute(_EXPIRED, {"cutoff": cutoff, "limit": limit}).all()
    for row in rows:
        # Row first: a receipt said expired with its file still there is harmless, the
        # opposite would be a "signed" receipt that cannot be downloaded.
        with ctx.db.write() as conn:
            conn.execute(_EXPIRE, {"receipt_id": row.id})
        pdf_path(root, row.day, row.folio).unlink(missing_ok=True)
    return len(rows)


# --- uploads --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class UploadCheck:
    """A verified upload, and how it compares with what this server stored for its folio."""

    result: Any  # server.receipts.verification.VerificationResult
    # "identical", "different" (a validly signed PDF that is not the one stored), "expired"
    # (no stored PDF to compare with), "unknown" (no receipt with that folio), or None when
    # the upload names no folio.
    stored: str | None
    receipt: ReceiptView | None


def check_upload(ctx: Turnos, data: bytes, trust_roots: Any) -> UploadCheck:
    from server.receipts.verification import verify_pdf

    result = verify_pdf(data, trust_roots)
    folio = getattr(result, "receipt_folio", None)
    if not folio:
        return UploadCheck(result, None, None)
    receipt = by_folio(ctx, folio)
    if receipt is None:
        return UploadCheck(result, "unknown", None)
    if receipt.sha256 is None:
        return UploadCheck(result, "unknown", receipt)
    if hashlib.sha256(data).hexdigest() == receipt.sha256:
        return UploadCheck(result, "identical", receipt)
    return UploadCheck(result, "expired" if receipt.status == "expired" else "different", receipt)


def counts(ctx: Turnos) -> Mapping[str, int]:
    """Receipts per status (for the batch's summary and tests)."""
    from sqlalchemy import func

    with ctx.db.read() as conn:
        return dict(conn.execute(select(R.status, func.count()).group_by(R.status)).all())


# --- statements, built once -----------------------------------------------------------------

_INSERT = insert(Receipt.__table__)
_BY_FOLIO = select(Receipt.__table__).where(R.folio == bindparam("folio"))
_BY_TICKET = select(Receipt.__table__).where(R.ticket_id == bindparam("ticket_id"))
_LATEST_FOR_COUNTER = (
    select(Receipt.__table__).where(R.counter_id == bindparam("counter"))
    .order_by(R.id.desc()).limit(1)
)
_TICKET = select(Ticket.__table__).where(T.id == bindparam("ticket_id"))
_STAFF_NAME = select(StaffUser.display_name).where(StaffUser.username == bindparam("username"))
_EXPIRED = (
    select(R.id, R.folio, R.day).where(R.status != "expired", R.created_at < bindparam("cutoff"))
    .order_by(R.created_at).limit(bindparam("limit"))
)
_EXPIRE = update(Receipt.__table__).where(R.id == bindparam("receipt_id")).values(
    status="expired")
