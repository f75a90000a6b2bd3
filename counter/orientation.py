"""Orientation staff's tablet page: issue a ticket on a citizen's behalf, printed at a chosen
printer or handed over as a QR code. The same rules as the kiosk: open services only, the
preferential attention the service offers, one ticket per request however often it is sent."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, url_for
from flask_babel import get_locale

from kiosk.views import ServiceClosed, closed_text
from server.api.errors import ApiError
from server.api.parse import json_body, text
from server.api.serialize import follow_url
from server.auth.access import can_issue_ticket, current_staff, requires_login, requires_staff_json
from server.extensions import ctx
from server.services import board, issuing
from server.services.print_worker import worker_of

# Templates and scripts live with the counter terminal's (counter/templates, counter/static).
bp = Blueprint("orientation", __name__, url_prefix="/orientation", template_folder="templates")

ISSUING_ROLES = ("orientation", "manager", "admin")


@bp.get("/")
@requires_login(*ISSUING_ROLES)
def tablet():
    config = ctx().config
    open_now = {b.service: b for b in board.service_board(ctx())}
    agencies = [
        {"agency": agency,
         "services": [(s, open_now[s.code]) for s in config.services if s.agency == agency.id]}
        for agency in config.agencies
    ]
    return render_template("counter/orientation.html", agencies=agencies,
                           printers=config.printers, closed_text=closed_text,
                           tickets_url=url_for("orientation.issue"))


@bp.post("/tickets")
@requires_staff_json(*ISSUING_ROLES)
def issue():
    body = json_body({"service", "preferential", "printer", "key"})
    code = text(body, "service", required=True, max_len=40)
    key = text(body, "key", required=True, max_len=100)
    preferential = text(body, "preferential", max_len=20) if body.get("preferential") else None
    printer = text(body, "printer", max_len=40) if body.get("printer") else None
    config = ctx().config
    staff = current_staff()
    assert staff is not None
    try:
        service = config.service(code or "")
    except KeyError:
        raise ApiError(404, "unknown_service", "there is no such service") from None
    if not can_issue_ticket(staff, service):
        raise ApiError(403, "forbidden", "you may not issue tickets for this service")
    if printer is not None and printer not in {p.id for p in config.printers}:
        raise ApiError(422, "invalid_field", "'printer' is not a printer of this CSA")
    entry = next(b for b in board.service_board(ctx()) if b.service == service.code)
    if not entry.availability.open:
        raise ServiceClosed(closed_text(entry.availability))
    result = issuing.issue_ticket(
        ctx(), issuing.IssueRequest(service.code, preferential, printer=printer,
                                    locale=str(get_locale())),
        caller=staff.username, key=f"orientation:{key}",
    )
    if printer is not None and result.created:
        worker_of(current_app).wake()
    ticket = result.ticket
    answer: dict[str, Any] = {
        "number": ticket.number,
        "service_name": service.name,
        "preferential": ticket.preferential,
        "position": ticket.position,
        "estimated_wait_minutes": board.estimate_for(ctx(), ticket),
        "follow_url": follow_url(config, ticket),
        "qr_url": url_for("follow.qr_code", token=ticket.follow_token),
        "printer": printer,
    }
    return answer, 201
