"""The counter terminal's page and the JSON calls behind its buttons.

Views stay thin: check the signed-in clerk may work this counter, call one service, answer
with the terminal's fresh state so the screen never shows something the server did not do.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import abort, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from counter import bp
from server.api.errors import ApiError
from server.api.parse import choice, json_body, text
from server.api.serialize import iso, ticket_json
from server.auth.access import (
    can_act_on_counter,
    current_staff,
    requires_login,
    requires_staff_json,
)
from server.config_types import Counter, TransferPlacement
from server.domain.tickets import Outcome
from server.extensions import ctx
from server.services import calling, counters, queries, receipts
from server.services.counters import CounterState
from server.services.print_worker import worker_of

COUNTER_ROLES = ("counter", "manager", "admin")


@bp.app_context_processor
def _staff_in_templates() -> dict[str, Any]:
    return {"current_staff": current_staff, "get_locale": get_locale}


@bp.get("/")
@requires_login(*COUNTER_ROLES)
def choose_counter():
    staff = current_staff()
    mine = [c for c in ctx().config.counters if can_act_on_counter(staff, c)]
    states = {c.id: c for c in queries.counters(ctx())}
    return render_template("counter/choose.html", counters=mine, states=states, labels=_labels())


@bp.get("/<counter_id>")
@requires_login(*COUNTER_ROLES, counter_arg="counter_id")
def terminal(counter_id: str):
    counter = _counter(counter_id, page=True)
    return render_template(
        "counter/terminal.html",
        counter=counter,
        labels=_labels(),
        time_zone=ctx().config.timezone.key,
        state_url=url_for("counter.state", counter_id=counter.id),
        services=[ctx().config.service(s) for s in counter.services],
    )


@bp.get("/<counter_id>/state")
@requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
def state(counter_id: str):
    return _state(_counter(counter_id))


@bp.post("/<counter_id>/call-next")
@requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
def call_next(counter_id: str):
    counter = _counter(counter_id)
    json_body(set())
    calling.call_next(ctx(), counter.id, actor=_actor(), role=_role())
    return _state(counter)


@bp.post("/<counter_id>/call")
@requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
def call_number(counter_id: str):
    counter = _counter(counter_id)
    number = text(json_body({"number"}), "number", required=True, max_len=12)
    calling.call_number(ctx(), counter.id, number or "", actor=_actor(), role=_role())
    return _state(counter)


def _state_change(state: CounterState):
    @requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
    def change(counter_id: str):
        counter = _counter(counter_id)
        body = json_body({"reason"})
        counters.set_state(
            ctx(), counter.id, state, actor=_actor(), reason=text(body, "reason", max_len=200)
        )
        return _state(counter)

    return change


for _path, _state_value in (
    ("open", CounterState.OPEN),
    ("pause", CounterState.PAUSED),
    ("close", CounterState.CLOSED),
):
    bp.add_url_rule(
        f"/<counter_id>/{_path}", f"{_path}_counter", _state_change(_state_value), methods=["POST"]
    )


def _ticket_action(action: str):
    @requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
    def act(counter_id: str):
        counter = _counter(counter_id)
        body = json_body({"outcome", "folio", "note", "reason", "service", "counter", "placement"})
        ticket = _current_ticket(counter)
        actor, role = _actor(), _role()
        if action == "recall":
            calling.recall(ctx(), ticket, actor=actor, role=role)
        elif action == "start":
            calling.start(ctx(), ticket, actor=actor, role=role)
        elif action == "complete":
            calling.complete(
                ctx(),
                ticket,
                actor=actor,
                role=role,
                outcome=choice(body, "outcome", Outcome) or Outcome.RESOLVED,
                folio=text(body, "folio", max_len=60),
                note=text(body, "note", max_len=2000),
            )
        elif action == "no-show":
            calling.no_show(ctx(), ticket, actor=actor, role=role)
        elif action == "cancel":
            calling.cancel(
                ctx(), ticket, actor=actor, role=role, reason=text(body, "reason", max_len=500)
            )
        else:
            calling.transfer(
                ctx(),
                ticket,
                calling.Transfer(
                    service=text(body, "service", max_len=40),
                    counter=text(body, "counter", max_len=40),
                    placement=choice(body, "placement", TransferPlacement),
                    reason=text(body, "reason", max_len=500),
                ),
                actor=actor,
                role=role,
            )
        return _state(counter)

    return act


for _action in ("recall", "start", "complete", "no-show", "cancel", "transfer"):
    bp.add_url_rule(
        f"/<counter_id>/ticket/{_action}",
        f"ticket_{_action.replace('-', '_')}",
        _ticket_action(_action),
        methods=["POST"],
    )


@bp.post("/<counter_id>/receipt/print-slip")
@requires_staff_json(*COUNTER_ROLES, counter_arg="counter_id")
def print_receipt_slip(counter_id: str):
    """Print the slip (folio and QR) of this counter's latest receipt at its printer."""
    counter = _counter(counter_id)
    json_body(set())
    receipt = receipts.latest_for_counter(ctx(), counter.id)
    if receipt is None:
        raise ApiError(409, "no_receipt", "this counter has no recent receipt to print")
    if counter.printer is None:
        raise ApiError(409, "no_printer", f"{counter.name} has no printer in config.toml")
    receipts.queue_slip(ctx(), receipt, counter.printer)
    worker_of(current_app).wake()
    return _state(counter)


def _receipt(counter: Counter, holding: bool) -> dict[str, Any] | None:
    """The receipt of the ticket this counter just completed, while it holds no other."""
    receipt = None if holding else receipts.latest_for_counter(ctx(), counter.id)
    if receipt is None:
        return None
    return {
        "folio": receipt.folio,
        "status": receipt.status,
        "verify_url": receipts.verify_url(ctx().config, receipt.folio),
        "qr_url": url_for("verify.qr_code", folio=receipt.folio),
        "can_print": counter.printer is not None,
    }


def _labels() -> dict[str, str]:
    """Words for the states the terminal shows, in the clerk's language."""
    return {
        "open": _("open"),
        "paused": _("paused"),
        "closed": _("closed"),
        "waiting": _("waiting"),
        "called": _("called"),
        "serving": _("serving"),
        "completed": _("completed"),
        "no_show": _("no-show"),
        "cancelled": _("cancelled"),
        "slip_sent": _("The slip was sent to the printer."),
    }


def _actor() -> str:
    staff = current_staff()
    assert staff is not None  # the decorators let nobody else in
    return staff.username


def _role() -> str:
    staff = current_staff()
    assert staff is not None
    return staff.role


def _counter(counter_id: str, *, page: bool = False) -> Counter:
    try:
        counter = ctx().config.counter(counter_id)
    except KeyError:
        if page:
            abort(404)
        raise ApiError(404, "unknown_counter", f"there is no counter '{counter_id}'") from None
    if not can_act_on_counter(current_staff(), counter):
        if page:
            abort(403)
        raise ApiError(403, "forbidden", "this counter belongs to another agency")
    return counter


def _current_ticket(counter: Counter) -> int:
    status = next(c for c in queries.counters(ctx()) if c.id == counter.id)
    if status.current_ticket_id is None:
        raise ApiError(409, "no_current_ticket", "this counter holds no ticket right now")
    return status.current_ticket_id


def _state(counter: Counter) -> dict[str, Any]:
    """Everything the terminal shows, in one answer."""
    config = ctx().config
    status = next(c for c in queries.counters(ctx()) if c.id == counter.id)
    current = None
    if status.current_ticket_id is not None:
        current = ticket_json(config, queries.get_ticket(ctx(), status.current_ticket_id))
    waiting = {q.service: q for q in queries.queues(ctx())}
    return {
        "counter": {"id": counter.id, "name": counter.name, "state": status.state},
        "ticket": current,
        "queues": [
            {
                "service": code,
                "name": config.service(code).name,
                "prefix": config.service(code).prefix,
                "waiting": waiting[code].waiting,
                "oldest_wait_seconds": waiting[code].oldest_wait_seconds,
                "next": [
                    {
                        "number": t.number,
                        "preferential": t.preferential,
                        "issued_at": iso(t.issued_at),
                    }
                    for t in queries.next_waiting(ctx(), code)
                ],
            }
            for code in counter.services
        ],
        "day": asdict(counters.counter_day(ctx(), counter.id)),
        "receipt": _receipt(counter, holding=current is not None),
        "transfer_targets": {
            "services": [{"code": s.code, "name": s.name} for s in config.services],
            "counters": [
                {"id": c.id, "name": c.name} for c in config.counters if c.id != counter.id
            ],
        },
    }
