"""The kiosk page and the two JSON calls it makes: live state and issuing a ticket."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, make_response, render_template, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _

from kiosk import bp
from kiosk.device import device_principal, pair, requires_device
from server.api.errors import ApiError
from server.api.parse import json_body, text
from server.api.serialize import follow_url
from server.config_types import Kiosk
from server.domain.availability import ClosedReason
from server.domain.errors import DomainError
from server.extensions import ctx
from server.i18n import short_language
from server.services import board, issuing, printing
from server.services.print_worker import worker_of
from server.services.tokens import Principal


class ServiceClosed(DomainError):
    code = "service_closed"


@bp.get("/<kiosk_id>")
def kiosk_page(kiosk_id: str):
    kiosk = _kiosk(kiosk_id)
    if device_principal() is None:
        return render_template("kiosk/pair.html", kiosk=kiosk), 401
    return render_template("kiosk/kiosk.html", kiosk=kiosk, data=_page_data(kiosk),
                           lang=short_language(str(get_locale())))


@bp.post("/<kiosk_id>/pair")
def pair_device(kiosk_id: str):
    _kiosk(kiosk_id)
    body = json_body({"token"})
    secret = text(body, "token", required=True, max_len=200)
    response = make_response("", 204)
    if not pair(response, secret or ""):
        raise ApiError(403, "not_a_kiosk_token", "that is not a valid kiosk token")
    return response


@bp.get("/<kiosk_id>/state")
@requires_device
def kiosk_state(kiosk_id: str, principal: Principal):
    return _state(_kiosk(kiosk_id))


@bp.post("/<kiosk_id>/tickets")
@requires_device
def issue_ticket(kiosk_id: str, principal: Principal):
    kiosk = _kiosk(kiosk_id)
    body = json_body({"service", "preferential", "key"})
    code = text(body, "service", required=True, max_len=40)
    key = text(body, "key", required=True, max_len=100)
    preferential = text(body, "preferential", max_len=20) if body.get("preferential") else None
    offered = {s.code for s in ctx().config.services if s.agency in kiosk.agencies}
    if code not in offered:
        raise ApiError(404, "unknown_service", "this kiosk does not offer that service")
    entry = next(b for b in board.service_board(ctx()) if b.service == code)
    if not entry.availability.open:
        raise ServiceClosed(closed_text(entry.availability))
    result = issuing.issue_ticket(
        ctx(),
        issuing.IssueRequest(code, preferential, printer=kiosk.printer,
                             locale=str(get_locale())),
        caller=f"{principal.name}@{kiosk.id}", key=f"{kiosk.id}:{key}",
    )
    if kiosk.printer is not None and result.created:
        worker_of(current_app).wake()
    ticket = result.ticket
    return {
        "id": ticket.id,
        "number": ticket.number,
        "service": ticket.service,
        "service_name": _service_name(code),
        "preferential": ticket.preferential,
        "position": ticket.position,
        "estimated_wait_minutes": board.estimate_for(ctx(), ticket),
        "issued_at": format_datetime(ticket.issued_at, "HH:mm"),
        "issued_date": format_datetime(ticket.issued_at, "d MMM y"),
        "follow_url": follow_url(ctx().config, ticket),
        "qr_url": url_for("follow.qr_code", token=ticket.follow_token),
        "printer": _printer_note(kiosk),
    }, 201


def _printer_note(kiosk: Kiosk) -> dict[str, Any]:
    """What the ticket screen says about the paper copy; the QR on screen always works."""
    if kiosk.printer is None:
        return {"ok": False, "message": _("This kiosk does not print. Scan the code or take a "
                                          "photo of this screen.")}
    state = next(p for p in printing.printer_states(ctx()) if p.id == kiosk.printer)
    if state.status.may_print:
        return {"ok": True, "message": _("Your ticket is being printed. Keep it with you.")}
    return {"ok": False, "message": _("The printer has a problem and your ticket may not be "
                                      "printed. Scan the code or take a photo of this screen; "
                                      "your turn is saved.")}


def _kiosk(kiosk_id: str) -> Kiosk:
    for kiosk in ctx().config.kiosks:
        if kiosk.id == kiosk_id:
            return kiosk
    abort(404)


def _service_name(code: str) -> str:
    service = ctx().config.service(code)
    if short_language(str(get_locale())) == "en" and service.name_en:
        return service.name_en
    return service.name


def _page_data(kiosk: Kiosk) -> dict[str, Any]:
    config = ctx().config
    agencies = [config.agency(a) for a in kiosk.agencies]
    return {
        "kiosk": kiosk.id,
        "stateUrl": url_for("kiosk.kiosk_state", kiosk_id=kiosk.id),
        "ticketsUrl": url_for("kiosk.issue_ticket", kiosk_id=kiosk.id),
        "idleSeconds": current_app.config.get("KIOSK_IDLE_SECONDS", 45),
        "ticketSeconds": current_app.config.get("KIOSK_TICKET_SECONDS", 30),
        # The header clock shows the server's time in the CSA's zone, not the device's.
        "serverTime": int(ctx().clock.now().timestamp() * 1000),
        "timeZone": config.timezone.key,
        "agencies": [
            {"id": a.id, "name": a.name, "order": a.order.value,
             "services": [
                 {"code": s.code, "prefix": s.prefix, "name": _service_name(s.code),
                  "preferential": s.preferential}
                 for s in config.services if s.agency == a.id
             ]}
            for a in agencies
        ],
        "state": _state(kiosk),
        "text": {
            "waiting": _("%(n)s waiting"),
            "waitingNone": _("Nobody waiting"),
            "estimate": _("About %(n)s min"),
            "estimateNow": _("Right away"),
            "closed": _("Closed"),
            "preferentialOnly": _("Preferential attention is not offered for this service"),
            "error": _("Something went wrong. Please try again or ask the staff."),
        },
    }


def _state(kiosk: Kiosk) -> dict[str, Any]:
    config = ctx().config
    offered = {s.code for s in config.services if s.agency in kiosk.agencies}
    services = {}
    for entry in board.service_board(ctx()):
        if entry.service not in offered:
            continue
        services[entry.service] = {
            "waiting": entry.waiting,
            "estimated_wait_minutes": entry.estimated_wait_minutes,
            "open": entry.availability.open,
            "closed_text": None if entry.availability.open else closed_text(entry.availability),
        }
    return {"services": services}


def closed_text(availability) -> str:
    """When a closed service opens again, in the reader's language."""
    if availability.reason is ClosedReason.NO_OPEN_COUNTER:
        return _("No counter is open right now")
    if availability.opens_at is None:
        return _("Closed")
    return _("Opens %(when)s", when=format_datetime(availability.opens_at, "EEEE d, HH:mm"))


