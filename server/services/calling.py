"""What counters do to tickets: call, recall, start, complete, no-show, cancel, transfer.

Every function here is one transaction that ends by appending its events, and publishes them
after the commit. Call-next is atomic on both databases: on SQLite the write transaction begins
IMMEDIATE, so it holds the write lock from its first read; on PostgreSQL the counter row is
locked FOR UPDATE (two staff at one counter queue behind each other) and the chosen ticket is
taken with FOR UPDATE SKIP LOCKED, choosing again if another counter got there first.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, text, union_all, update
from sqlalchemy.exc import NoResultFound

from server.auth import audit
from server.config_types import TransferPlacement
from server.context import Turnos
from server.domain import policy
from server.domain.errors import (
    CounterBusy,
    DomainError,
    InvalidRequest,
    NoShowTooEarly,
    NotFound,
    NotServedHere,
)
from server.domain.numbering import parse_number, service_day
from server.domain.tickets import Action, Outcome, TicketStatus, next_status
from server.models import CounterRow, Ticket
from server.prepared import Prepared
from server.services import events, receipts
from server.services.views import (
    TicketView,
    changed_row,
    load_ticket,
    ticket_view,
    waiting_position,
)

T = Ticket.__table__.c
C = CounterRow.__table__.c


class CounterClosed(DomainError):
    code = "counter_closed"


@dataclass(frozen=True, slots=True)
class Transfer:
    service: str | None = None
    counter: str | None = None
    placement: TransferPlacement | None = None
    reason: str | None = None


def call_next(
    ctx: Turnos, counter_id: str, *, actor: str, role: str | None = None
) -> TicketView | None:
    """Call the ticket the queue policy picks for this counter; None when nobody waits."""
    counter = _counter_config(ctx, counter_id)
    now = ctx.clock.now()
    today = service_day(now, ctx.config.timezone)
    with ctx.db.write() as conn:
        state = _lock_open_counter(conn, counter_id, counter.services)
        _ensure_free(conn, counter_id)
        excluded: list[int] = []
        while True:
            heads = _queue_heads(conn, counter_id, counter.services, today, excluded)
            pick = policy.next_ticket(heads, state, ctx.config.rules.preferential, now)
            if pick is None:
                return None
            row = _take(conn, pick.id)
            if row is not None:
                break
            excluded.append(pick.id)
        after = policy.after_call(state, pick)
        _SET_STREAK.execute(
            conn, {"counter": counter_id, "streak": after.regular_since_preferential}
        )
        ticket, published = _call(conn, row, counter_id, now=now, actor=actor, role=role)
    ctx.sink.publish(published)
    return ticket


def call_number(
    ctx: Turnos, counter_id: str, number: str, *, actor: str, role: str | None = None
) -> TicketView:
    """Call one specific waiting ticket of today by its number (A-042)."""
    counter = _counter_config(ctx, counter_id)
    parsed = parse_number(number)
    if parsed is None:
        raise InvalidRequest(f"'{number}' is not a ticket number like A-042", code="bad_number")
    prefix, sequence = parsed
    service = next((s for s in ctx.config.services if s.prefix == prefix), None)
    if service is None:
        raise NotFound(f"no service uses the letter {prefix}")
    now = ctx.clock.now()
    today = service_day(now, ctx.config.timezone)
    with ctx.db.write() as conn:
        _lock_open_counter(conn, counter_id, counter.services)
        _ensure_free(conn, counter_id)
        row = conn.execute(
            select(Ticket.__table__)
            .where(T.issued_service_code == service.code, T.day == today, T.sequence == sequence)
            .with_for_update()
        ).first()
        if row is None:
            raise NotFound(f"there is no ticket {prefix}-{sequence:03d} today")
        if row.service_code not in counter.services and row.target_counter_id != counter_id:
            raise NotServedHere(
                f"counter {counter.name} does not serve {ctx.config.service(row.service_code).name}"
            )
        if row.target_counter_id not in (None, counter_id):
            raise NotServedHere(f"ticket {row.number} was sent to another counter")
        ticket, published = _call(conn, row, counter_id, now=now, actor=actor, role=role)
    ctx.sink.publish(published)
    return ticket


def recall(ctx: Turnos, ticket_id: int, *, actor: str, role: str | None = None) -> TicketView:
    """Announce a called ticket again; past the configured limit it becomes a no-show."""
    rules = ctx.config.rules

    def values(row: Row, now: dt.datetime) -> tuple[Action, dict[str, Any]]:
        if row.status == TicketStatus.CALLED.value and row.recall_count >= rules.max_recalls:
            return Action.NO_SHOW, {"finished_at": now}
        return Action.RECALL, {"recall_count": row.recall_count + 1, "called_at": now}

    return _act(ctx, ticket_id, actor, values, role=role)


def start(ctx: Turnos, ticket_id: int, *, actor: str, role: str | None = None) -> TicketView:
    """The citizen arrived at the counter: service begins."""
    return _act(
        ctx, ticket_id, actor, lambda row, now: (Action.START, {"started_at": now}), role=role
    )


def complete(
    ctx: Turnos,
    ticket_id: int,
    *,
    actor: str,
    role: str | None = None,
    outcome: Outcome,
    folio: str | None = None,
    note: str | None = None,
) -> TicketView:
    """Service finished with an outcome, and optionally the procedure's folio and a note."""
    return _act(
        ctx,
        ticket_id,
        actor,
        lambda row, now: (
            Action.COMPLETE,
            {"finished_at": now, "outcome": outcome.value, "folio": folio, "note": note},
        ),
        extra={"outcome": outcome.value},
        role=role,
        # The receipt's signing job, in the same transaction; the signature comes later.
        also=lambda conn, row, now: receipts.record_completion(
            conn, ctx.config, row, now=now, actor=actor),
    )


def no_show(ctx: Turnos, ticket_id: int, *, actor: str, role: str | None = None) -> TicketView:
    """The citizen did not come after being called (and recalled as configured)."""
    needed = ctx.config.rules.no_show_after_recalls

    def values(row: Row, now: dt.datetime) -> tuple[Action, dict[str, Any]]:
        if row.status == TicketStatus.CALLED.value and row.recall_count < needed:
            raise NoShowTooEarly(
                f"recall the ticket {needed} time(s) before marking it as a no-show"
            )
        return Action.NO_SHOW, {"finished_at": now}

    return _act(ctx, ticket_id, actor, values, role=role)


def cancel(
    ctx: Turnos, ticket_id: int, *, actor: str, role: str | None = None, reason: str | None = None
) -> TicketView:
    """The citizen gave up, or staff withdrew the ticket."""
    return _act(
        ctx,
        ticket_id,
        actor,
        lambda row, now: (Action.CANCEL, {"finished_at": now, "note": reason or row.note}),
        extra={"reason": reason},
        role=role,
    )


def transfer(
    ctx: Turnos, ticket_id: int, target: Transfer, *, actor: str, role: str | None = None
) -> TicketView:
    """Send a called or serving ticket to another service's queue or to one counter."""
    if target.service is None and target.counter is None:
        raise InvalidRequest("say which service or counter to transfer to", code="no_target")
    if target.service is not None:
        try:
            ctx.config.service(target.service)
        except KeyError:
            raise NotFound(f"there is no service '{target.service}'") from None
    if target.counter is not None:
        _counter_config(ctx, target.counter)
    placement = target.placement or ctx.config.rules.transfer_placement

    def values(row: Row, now: dt.datetime) -> tuple[Action, dict[str, Any]]:
        front = placement is TransferPlacement.FRONT
        return Action.TRANSFER, {
            "service_code": target.service or row.service_code,
            "target_counter_id": target.counter,
            "counter_id": None,
            "front": front,
            # By original time keeps the issue time as the ordering key; the front flag
            # alone places it ahead, and the transfer time orders fronts among themselves.
            "queued_at": now if front else row.issued_at,
            "called_at": None,
            "started_at": None,
            "recall_count": 0,
            "transfer_count": row.transfer_count + 1,
        }

    return _act(
        ctx,
        ticket_id,
        actor,
        values,
        extra={
            "from_service": None,
            "to_service": target.service,
            "to_counter": target.counter,
            "placement": placement.value,
            "reason": target.reason,
        },
        role=role,
    )


# --- shared machinery -----------------------------------------------------------------------


def _act(
    ctx: Turnos,
    ticket_id: int,
    actor: str,
    values: Callable[[Row, dt.datetime], tuple[Action, dict[str, Any]]],
    extra: dict[str, Any] | None = None,
    role: str | None = None,
    also: Callable[[Connection, Row, dt.datetime], object] | None = None,
) -> TicketView:
    now = ctx.clock.now()
    with ctx.db.write() as conn:
        row = load_ticket(conn, ticket_id, for_update=True)
        if row is None:
            raise NotFound(f"there is no ticket {ticket_id}")
        action, changes = values(row, now)
        payload_extra = dict(extra or {})
        if action is Action.TRANSFER:
            payload_extra["from_service"] = row.service_code
            payload_extra["from_counter"] = row.counter_id
        ticket, published = _move(
            conn,
            row,
            action,
            now=now,
            actor=actor,
            counter=row.counter_id,
            values=changes,
            extra=payload_extra,
            role=role,
        )
        if also is not None:
            also(conn, row, now)
    ctx.sink.publish(published)
    return ticket


_EVENT_TYPES = {
    Action.CALL: "ticket.called",
    Action.RECALL: "ticket.recalled",
    Action.START: "ticket.started",
    Action.COMPLETE: "ticket.completed",
    Action.NO_SHOW: "ticket.no_show",
    Action.CANCEL: "ticket.cancelled",
    Action.TRANSFER: "ticket.transferred",
}


def _move(
    conn: Connection,
    row: Row,
    action: Action,
    *,
    now: dt.datetime,
    actor: str,
    role: str | None = None,
    counter: str | None,
    values: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> tuple[TicketView, list[events.PublishedEvent]]:
    """Apply one legal transition to `row` and log it; IllegalTransition otherwise."""
    status = next_status(TicketStatus(row.status), action)
    # The SET clause is the keys of the parameters: status plus whatever `values` names.
    changes = {"status": status.value, **values}
    if _UPDATE_TICKET.execute(conn, {"ticket_id_": row.id, **changes}).rowcount != 1:
        raise NoResultFound(f"ticket {row.id} was not there to update")
    updated = changed_row(row, changes)
    ticket = ticket_view(updated, position=waiting_position(conn, updated))
    payload = ticket.event_payload()
    if extra:
        payload.update(extra)
    published = events.append(
        conn,
        [
            events.EventDraft(
                type=_EVENT_TYPES[action],
                at=now,
                ticket_id=row.id,
                service_code=updated.service_code,
                counter_id=counter,
                actor=actor,
                payload=payload,
            )
        ],
    )
    details = {k: v for k, v in (extra or {}).items() if isinstance(v, str | int | bool)}
    audit.record(
        conn,
        actor=actor,
        role=role,
        action=_EVENT_TYPES[action],
        target=row.number,
        counter_id=counter,
        details={"ticket_id": row.id, **details},
        now=now,
    )
    return ticket, published


def _call(
    conn: Connection, row: Row, counter_id: str, *, now: dt.datetime, actor: str,
    role: str | None,
) -> tuple[TicketView, list[events.PublishedEvent]]:
    """Hand `row` to the counter: the common end of call-next and call-by-number."""
    return _move(conn, row, Action.CALL, now=now, actor=actor, counter=counter_id,
                 values=_call_values(row, counter_id, now), role=role)


def _call_values(row: Row, counter_id: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "counter_id": counter_id,
        "called_at": now,
        "first_called_at": row.first_called_at or now,
        "target_counter_id": None,
        "front": False,
    }


def _counter_config(ctx: Turnos, counter_id: str):
    try:
        return ctx.config.counter(counter_id)
    except KeyError:
        raise NotFound(f"there is no counter '{counter_id}'", code="unknown_counter") from None


def _lock_open_counter(
    conn: Connection, counter_id: str, services: tuple[str, ...]
) -> policy.CounterState:
    row = _LOCK_COUNTER.execute(conn, {"counter": counter_id}).first()
    if row is None:
        raise NotFound(f"there is no counter '{counter_id}'", code="unknown_counter")
    if row.state != "open":
        raise CounterClosed(f"counter {counter_id} is {row.state}")
    return policy.CounterState(row.id, services, row.regular_since_preferential)


def _ensure_free(conn: Connection, counter_id: str) -> None:
    holding = _HOLDING.execute(conn, {"counter": counter_id}).first()
    if holding is not None:
        raise CounterBusy(
            f"counter {counter_id} still has ticket {holding.number}; finish it first"
        )


def _queue_heads(
    conn: Connection,
    counter_id: str,
    services: tuple[str, ...],
    today: dt.date,
    excluded: list[int],
) -> list[policy.QueuedTicket]:
    """The oldest ticket of each (service, class, front, target) group this counter may call.

    The policy only ever compares group heads, so this reads a handful of rows however long
    the queue is: each head of this counter's services is one seek in ix_tickets_queue, and
    the tickets a transfer sent to this counter (few) all come back to be sorted here.
    """
    parameters: dict[str, Any] = {"today": today, "counter": counter_id}
    parameters.update((f"service_{i}", code) for i, code in enumerate(services))
    if excluded:
        parameters["excluded"] = excluded
    heads: dict[tuple[str, bool, bool, str | None], Row] = {}
    for row in _heads_statement(len(services), bool(excluded)).execute(conn, parameters):
        group = (row.service_code, row.preferential, row.front, row.target_counter_id)
        head = heads.get(group)
        if head is None or (row.queued_at, row.id) < (head.queued_at, head.id):
            heads[group] = row
    return [
        policy.QueuedTicket(
            r.id, r.service_code, r.preferential, r.front, r.queued_at, r.target_counter_id
        )
        for r in heads.values()
    ]


def _take(conn: Connection, ticket_id: int) -> Row | None:
    """Lock the chosen ticket if it is still waiting and nobody else holds it."""
    return _TAKE.execute(conn, {"ticket_id": ticket_id}).first()


# --- statements -----------------------------------------------------------------------------
# Built once, with bound parameters, and run as Prepared statements: building and
# fingerprinting an expression per request, and SQLAlchemy's execution machinery, cost more
# than running it (see docs/performance.md).

_LOCK_COUNTER = Prepared(
    select(C.id, C.state, C.regular_since_preferential)
    .where(C.id == bindparam("counter"))
    .with_for_update()
)
# The status list is literal SQL, not bound values, so that SQLite can prove the condition of
# the partial index uq_tickets_active_counter and seek it (and the statement needs no
# expanding IN parameters).
_HOLDING = Prepared(select(T.number).where(
    T.counter_id == bindparam("counter"),
    text(f"status IN ('{TicketStatus.CALLED.value}', '{TicketStatus.SERVING.value}')"),
))
_SET_STREAK = Prepared(
    update(CounterRow.__table__)
    .where(C.id == bindparam("counter"))
    .values(regular_since_preferential=bindparam("streak"))
)
_TAKE = Prepared(
    select(Ticket.__table__)
    .where(T.id == bindparam("ticket_id"), T.status == TicketStatus.WAITING.value)
    .with_for_update(skip_locked=True)
)
# "ticket_id_": a bound parameter may not share its name with a column of the UPDATE.
_UPDATE_TICKET = Prepared(update(Ticket.__table__).where(T.id == bindparam("ticket_id_")))
_HEAD_COLUMNS = (T.id, T.service_code, T.preferential, T.front, T.queued_at, T.target_counter_id)


@functools.cache
def _heads_statement(service_count: int, excluding: bool):
    """The queue-heads query for a counter serving `service_count` services."""

    def waiting_today(*conditions):
        where = [T.status == TicketStatus.WAITING.value, T.day == bindparam("today"), *conditions]
        if excluding:
            where.append(T.id.not_in(bindparam("excluded", expanding=True)))
        return where

    heads = [
        select(*_HEAD_COLUMNS)
        .where(
            *waiting_today(
                T.service_code == bindparam(f"service_{i}"),
                T.target_counter_id.is_(None),
                T.preferential == preferential,
                T.front == front,
            )
        )
        .order_by(T.queued_at, T.id)
        .limit(1)
        .subquery()
        for i in range(service_count)
        for preferential in (False, True)
        for front in (False, True)
    ]
    # Every ticket a transfer sent to this counter, whatever its service (ix_tickets_targeted).
    sent_here = select(*_HEAD_COLUMNS).where(
        *waiting_today(T.target_counter_id == bindparam("counter"))
    )
    return Prepared(union_all(*(select(head) for head in heads), sent_here))
