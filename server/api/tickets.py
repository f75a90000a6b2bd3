"""Ticket endpoints: issue, read, and the counter actions.

The POST endpoints are written once, as functions of an `ApiCall`, and served two ways: by the
Flask views below, and for the plain requests kiosks and counters send all day by
server/api/direct.py, without Flask's per-request machinery.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import g, request

from server.api import bp
from server.api.auth import ANY, ISSUERS, STAFF, requires
from server.api.errors import ApiError
from server.api.parse import choice, json_body, parse_body, text
from server.api.serialize import ticket_json
from server.config_types import TransferPlacement
from server.context import Turnos
from server.domain.tickets import Outcome
from server.extensions import ctx
from server.services import calling, issuing, queries
from server.services.tokens import Principal
from server.services.views import TicketView

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{8,100}$")
# Ticket ids are 32-bit in PostgreSQL; a larger id in the URL is simply not found (the
# database would refuse it as a parameter, which used to surface as a 500).
TICKET_ID_MAX = 2**31 - 1
TICKET = f"/tickets/<int(max={TICKET_ID_MAX}):ticket_id>"


@dataclass(frozen=True, slots=True)
class ApiCall:
    """What a POST endpoint needs of its request, wherever the request was parsed."""

    turnos: Turnos
    principal: Principal
    data: bytes
    is_json: bool
    idempotency_key: str = ""

    def body(self, allowed: set[str]) -> dict[str, Any]:
        return parse_body(self.data, self.is_json, allowed)


# An endpoint's answer: the JSON body (None for an empty one) and the status.
Answer = tuple[dict[str, Any] | None, int]


def _flask_call() -> ApiCall:
    return ApiCall(ctx(), g.principal, request.get_data(cache=True), request.is_json,
                   request.headers.get("Idempotency-Key", ""))


def _flask_answer(answer: Answer):
    body, status = answer
    return (body if body is not None else ""), status


# --- issuing ---------------------------------------------------------------------------


def issue(call: ApiCall) -> Answer:
    if not IDEMPOTENCY_KEY.match(call.idempotency_key):
        raise ApiError(
            400,
            "idempotency_key_required",
            "send an Idempotency-Key header of 8-100 letters, digits or ._:-",
        )
    body = call.body({"service", "preferential"})
    service = text(body, "service", required=True, max_len=40)
    preferential = body.get("preferential")
    if preferential is False:
        preferential = None
    elif preferential is not None:
        preferential = text(body, "preferential", max_len=20)
    result = issuing.issue_ticket(
        call.turnos, issuing.IssueRequest(service, preferential), caller=call.principal.name,
        key=call.idempotency_key,
    )
    return ticket_json(call.turnos.config, result.ticket), 201


@bp.post("/tickets")
@requires(*ISSUERS)
def issue_ticket():
    return _flask_answer(issue(_flask_call()))


@bp.get(TICKET)
@requires(*ANY)
def get_ticket(ticket_id: int):
    return ticket_json(ctx().config, queries.get_ticket(ctx(), ticket_id))


# --- counter actions -------------------------------------------------------------------


def call_next(call: ApiCall, counter_id: str) -> Answer:
    call.body(set())
    ticket = calling.call_next(call.turnos, counter_id, actor=call.principal.name,
                               role=call.principal.role)
    return (ticket_json(call.turnos.config, ticket), 200) if ticket else (None, 204)


@bp.post("/counters/<counter_id>/call-next", endpoint="call_next")
@requires(*STAFF)
def call_next_view(counter_id: str):
    return _flask_answer(call_next(_flask_call(), counter_id))


@bp.post("/counters/<counter_id>/call")
@requires(*STAFF)
def call_number(counter_id: str):
    body = json_body({"number"})
    number = text(body, "number", required=True, max_len=12)
    ticket = calling.call_number(
        ctx(), counter_id, number, actor=g.principal.name, role=g.principal.role
    )
    return ticket_json(ctx().config, ticket)


def _recall(call: ApiCall, ticket_id: int) -> TicketView:
    call.body(set())
    return calling.recall(call.turnos, ticket_id, actor=call.principal.name,
                          role=call.principal.role)


def _start(call: ApiCall, ticket_id: int) -> TicketView:
    call.body(set())
    return calling.start(call.turnos, ticket_id, actor=call.principal.name,
                         role=call.principal.role)


def _complete(call: ApiCall, ticket_id: int) -> TicketView:
    body = call.body({"outcome", "folio", "note"})
    outcome = choice(body, "outcome", Outcome) or Outcome.RESOLVED
    return calling.complete(
        call.turnos,
        ticket_id,
        actor=call.principal.name,
        role=call.principal.role,
        outcome=outcome,
        folio=text(body, "folio", max_len=60),
        note=text(body, "note", max_len=2000),
    )


def _no_show(call: ApiCall, ticket_id: int) -> TicketView:
    call.body(set())
    return calling.no_show(call.turnos, ticket_id, actor=call.principal.name,
                           role=call.principal.role)


def _cancel(call: ApiCall, ticket_id: int) -> TicketView:
    body = call.body({"reason"})
    return calling.cancel(call.turnos, ticket_id, actor=call.principal.name,
                          role=call.principal.role, reason=text(body, "reason", max_len=500))


def _transfer(call: ApiCall, ticket_id: int) -> TicketView:
    body = call.body({"service", "counter", "placement", "reason"})
    target = calling.Transfer(
        service=text(body, "service", max_len=40),
        counter=text(body, "counter", max_len=40),
        placement=choice(body, "placement", TransferPlacement),
        reason=text(body, "reason", max_len=500),
    )
    return calling.transfer(call.turnos, ticket_id, target, actor=call.principal.name,
                            role=call.principal.role)


# POST /tickets/<id>/<action>: what each does with the ticket.
TICKET_ACTIONS: dict[str, Callable[[ApiCall, int], TicketView]] = {
    "recall": _recall,
    "start": _start,
    "complete": _complete,
    "no-show": _no_show,
    "cancel": _cancel,
    "transfer": _transfer,
}


def ticket_action(call: ApiCall, ticket_id: int, action: str) -> Answer:
    ticket = TICKET_ACTIONS[action](call, ticket_id)
    return ticket_json(call.turnos.config, ticket), 200


def _action_view(action: str) -> None:
    @requires(*STAFF)
    def view(ticket_id: int):
        return _flask_answer(ticket_action(_flask_call(), ticket_id, action))

    name = action.replace("-", "_")
    view.__name__ = name
    bp.post(f"{TICKET}/{action}", endpoint=name)(view)


for _action in TICKET_ACTIONS:
    _action_view(_action)
