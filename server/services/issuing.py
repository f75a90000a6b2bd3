"""Issuing tickets: numbering, idempotency and the ticket.issued event in one transaction."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from server.context import Turnos
from server.domain.errors import DomainError, InvalidRequest, NotFound
from server.domain.numbering import format_number, service_day
from server.domain.tickets import TicketStatus
from server.models import DailyNumber, IdempotencyKey, Ticket
from server.prepared import Prepared
from server.services import board, events, printing
from server.services.views import (
    TicketView,
    load_ticket,
    ticket_row,
    ticket_view,
    waiting_position,
)

PREFERENTIAL_REASONS = ("senior", "pregnancy", "disability")


class IdempotencyConflict(DomainError):
    code = "idempotency_key_reused"
    http_status = 422


@dataclass(frozen=True, slots=True)
class IssueRequest:
    service: str
    # None for a regular ticket; otherwise why preferential attention applies.
    preferential: str | None = None
    # Print the ticket on this printer (the kiosk's) in this language; not part of the
    # idempotency fingerprint, since it says where the caller is, not what it asked for.
    printer: str | None = None
    locale: str | None = None


@dataclass(frozen=True, slots=True)
class IssueResult:
    ticket: TicketView
    # False when the idempotency key matched an earlier request.
    created: bool


def issue_ticket(ctx: Turnos, request: IssueRequest, *, caller: str, key: str) -> IssueResult:
    """Give the citizen the next number of `request.service`, exactly once per key."""
    _check(ctx, request)
    request_hash = _fingerprint(request)
    try:
        return _issue(ctx, request, caller=caller, key=key, request_hash=request_hash)
    except IntegrityError as error:
        # The key was used before (a kiosk's double tap, a retry after a lost answer, two
        # racing requests): its primary key refused this one, and everything this attempt
        # wrote, its number included, was undone. Answer with the first request's ticket.
        # Looking the key up first would cost every issue a statement inside the write.
        return _earlier(ctx, caller=caller, key=key, request_hash=request_hash, error=error)


def _issue(ctx: Turnos, request: IssueRequest, *, caller: str, key: str,
           request_hash: str) -> IssueResult:
    now = ctx.clock.now()
    service = ctx.config.service(request.service)
    day = service_day(now, ctx.config.timezone)
    with ctx.db.write() as conn:
        sequence = _next_sequence(conn, service.code, day)
        values = {
            "follow_token": secrets.token_urlsafe(16),
            "service_code": service.code,
            "issued_service_code": service.code,
            "day": day,
            "sequence": sequence,
            "number": format_number(service.prefix, sequence),
            "preferential": request.preferential is not None,
            "preferential_reason": request.preferential,
            "status": TicketStatus.WAITING.value,
            "issued_at": now,
            "queued_at": now,
            "front": False,
            "recall_count": 0,
            "transfer_count": 0,
            "issued_by": caller,
        }
        row = ticket_row({**values, "id": _INSERT_TICKET.execute(conn, values).scalar_one()})
        _INSERT_KEY.execute(conn, {
            "key": key, "caller": caller, "request_hash": request_hash, "ticket_id": row.id,
            "created_at": now,
        })
        ticket = ticket_view(row)
        if request.printer is not None:
            # Queued in the ticket's own transaction: no ticket without its print job, and
            # the worker sends it after the commit, so printing never delays the answer.
            ticket = ticket_view(row, position=waiting_position(conn, row))
            payload = printing.ticket_payload(
                ctx.config, ticket, locale=request.locale,
                estimated_wait_minutes=board.estimate_in(conn, ctx, ticket, now))
            printing.enqueue_ticket_print(conn, ticket_id=row.id, printer_id=request.printer,
                                          payload=payload, now=now)
        published = events.append(conn, [events.EventDraft(
            type="ticket.issued", at=now, ticket_id=row.id, service_code=service.code,
            counter_id=None, actor=caller, payload=ticket.event_payload(),
        )])
    ctx.sink.publish(published)
    if ticket.position is None:
        # Read after the commit, outside the write: the database serialises writes (across
        # the server's processes too), and on PostgreSQL the count grows with the line.
        with ctx.db.read() as conn:
            ticket = ticket_view(row, position=waiting_position(conn, row))
    return IssueResult(ticket, True)


def _earlier(ctx: Turnos, *, caller: str, key: str, request_hash: str,
             error: IntegrityError) -> IssueResult:
    # A write transaction although it only reads: on SQLite the first request may still be in
    # the group of writes that has not committed yet, which only a write turn sees.
    with ctx.db.write() as conn:
        earlier = _EARLIER.execute(conn, {"key": key, "caller": caller}).first()
        if earlier is None:
            raise error  # not the key: some other constraint, which is a bug to report
        if earlier.request_hash != request_hash:
            raise IdempotencyConflict(
                "this Idempotency-Key was already used for a different request"
            ) from None
        row = load_ticket(conn, earlier.ticket_id)
        assert row is not None
        return IssueResult(ticket_view(row, position=waiting_position(conn, row)), False)


def _check(ctx: Turnos, request: IssueRequest) -> None:
    try:
        service = ctx.config.service(request.service)
    except KeyError:
        raise NotFound(f"there is no service '{request.service}'", code="unknown_service") from None
    if request.preferential is None:
        return
    if request.preferential not in PREFERENTIAL_REASONS:
        raise InvalidRequest(
            f"preferential must be one of {', '.join(PREFERENTIAL_REASONS)}",
            code="invalid_preferential",
        )
    if not service.preferential:
        raise InvalidRequest(
            f"service '{service.code}' has no preferential attention",
            code="preferential_not_offered",
        )


def _next_sequence(conn: Connection, service_code: str, day) -> int:
    if conn.dialect.name == "sqlite":
        return _MAX_TODAY_PLUS_ONE.execute(conn, {"service_code": service_code, "day": day}
                                           ).scalar_one()
    return _UPSERT_DAILY_NUMBER.execute(conn, {"service_code": service_code, "day": day,
                                               "last": 1}).scalar_one()


def _fingerprint(request: IssueRequest) -> str:
    canonical = json.dumps({"service": request.service, "preferential": request.preferential},
                           sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


# Built once with bound parameters and run as Prepared statements: building an expression per
# request, and SQLAlchemy's execution machinery, cost more than running it (docs/performance.md).
_EARLIER = Prepared(select(IdempotencyKey.request_hash, IdempotencyKey.ticket_id).where(
    IdempotencyKey.key == bindparam("key"), IdempotencyKey.caller == bindparam("caller")
))
_INSERT_TICKET = Prepared(insert(Ticket.__table__).returning(Ticket.__table__.c.id))
_INSERT_KEY = Prepared(insert(IdempotencyKey.__table__))


# PostgreSQL: concurrent issues of one service take turns on its row of daily_numbers.
_UPSERT_DAILY_NUMBER = Prepared(
    postgresql.insert(DailyNumber.__table__)
    .on_conflict_do_update(
        index_elements=[DailyNumber.service_code, DailyNumber.day],
        set_={"last": DailyNumber.last + 1},
    )
    .returning(DailyNumber.last)
)
# SQLite: one writer at a time, so the next number is the service's highest of the day plus
# one, read from the end of the uq_tickets_number index. A counter row would cost every issue
# one more page changed and written at the COMMIT. Tickets are never deleted, so no number
# comes back; the ticket holding it is committed before anyone sees it.
_MAX_TODAY_PLUS_ONE = Prepared(
    select(func.coalesce(func.max(Ticket.sequence), 0) + 1).where(
        Ticket.issued_service_code == bindparam("service_code"), Ticket.day == bindparam("day")
    )
)
