"""Ticket endpoints: issue, read, and the counter actions."""

from __future__ import annotations

import re

from flask import g, request

from server.api import bp
from server.api.auth import ANY, ISSUERS, STAFF, requires
from server.api.errors import ApiError
from server.api.parse import choice, json_body, text
from server.api.serialize import ticket_json
from server.config_types import TransferPlacement
from server.domain.tickets import Outcome
from server.extensions import ctx
from server.services import calling, issuing, queries

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
# Ticket ids are 32-bit in PostgreSQL; a larger id in the URL is simply not found (the
# database would refuse it as a parameter, which used to surface as a 500).
TICKET_ID_MAX = 2**31 - 1
TICKET = f"/tickets/<int(max={TICKET_ID_MAX}):ticket_id>"


@bp.post("/tickets")
@requires(*ISSUERS)
def issue_ticket():
    key = request.headers.get("Idempotency-Key", "")
    if not IDEMPOTENCY_KEY.match(key):
        raise ApiError(
            400,
            "idempotency_key_required",
            "send an Idempotency-Key header of 8-100 letters, digits or ._:-",
        )
    body = json_body({"service", "preferential"})
    service = text(body, "service", required=True, max_len=40)
    preferential = body.get("preferential")
    if preferential is False:
        preferential = None
    elif preferential is not None:
        preferential = text(body, "preferential", max_len=20)
    result = issuing.issue_ticket(
        ctx(), issuing.IssueRequest(service, preferential), caller=g.principal.name, key=key
    )
    return ticket_json(ctx().config, result.ticket), 201


@bp.get(TICKET)
@requires(*ANY)
def get_ticket(ticket_id: int):
    return ticket_json(ctx().config, queries.get_ticket(ctx(), ticket_id))


@bp.post("/counters/<counter_id>/call-next")
@requires(*STAFF)
def call_next(counter_id: str):
    json_body(set())
    ticket = calling.call_next(ctx(), counter_id, actor=g.principal.name, role=g.principal.role)
    return (ticket_json(ctx().config, ticket), 200) if ticket else ("", 204)


@bp.post("/counters/<counter_id>/call")
@requires(*STAFF)
def call_number(counter_id: str):
    body = json_body({"number"})
    number = text(body, "number", required=True, max_len=12)
    ticket = calling.call_number(
        ctx(), counter_id, number, actor=g.principal.name, role=g.principal.role
    )
    return ticket_json(ctx().config, ticket)


@bp.post(f"{TICKET}/recall")
@requires(*STAFF)
def recall(ticket_id: int):
    json_body(set())
    return _ticket(calling.recall(ctx(), ticket_id, actor=g.principal.name, role=g.principal.role))


@bp.post(f"{TICKET}/start")
@requires(*STAFF)
def start(ticket_id: int):
    json_body(set())
    return _ticket(calling.start(ctx(), ticket_id, actor=g.principal.name, role=g.principal.role))


@bp.post(f"{TICKET}/complete")
@requires(*STAFF)
def complete(ticket_id: int):
    body = json_body({"outcome", "folio", "note"})
    outcome = choice(body, "outcome", Outcome) or Outcome.RESOLVED
    return _ticket(
        calling.complete(
            ctx(),
            ticket_id,
            actor=g.principal.name,
            role=g.principal.role,
            outcome=outcome,
            folio=text(body, "folio", max_len=60),
            note=text(body, "note", max_len=2000),
        )
    )


@bp.post(f"{TICKET}/no-show")
@requires(*STAFF)
def no_show(ticket_id: int):
    json_body(set())
    return _ticket(calling.no_show(ctx(), ticket_id, actor=g.principal.name, role=g.principal.role))


@bp.post(f"{TICKET}/cancel")
@requires(*STAFF)
def cancel(ticket_id: int):
    body = json_body({"reason"})
    return _ticket(
        calling.cancel(
            ctx(),
            ticket_id,
            actor=g.principal.name,
            role=g.principal.role,
            reason=text(body, "reason", max_len=500),
        )
    )


@bp.post(f"{TICKET}/transfer")
@requires(*STAFF)
def transfer(ticket_id: int):
    body = json_body({"service", "counter", "placement", "reason"})
    target = calling.Transfer(
        service=text(body, "service", max_len=40),
        counter=text(body, "counter", max_len=40),
        placement=choice(body, "placement", TransferPlacement),
        reason=text(body, "reason", max_len=500),
    )
    return _ticket(
        calling.transfer(ctx(), ticket_id, target, actor=g.principal.name, role=g.principal.role)
    )


def _ticket(ticket):
    return ticket_json(ctx().config, ticket)
