"""The citizen's phone page for one ticket, reached through the QR code's unguessable link."""

from __future__ import annotations

import io
from typing import Any

import segno
from flask import Response, render_template, url_for
from flask_babel import format_datetime, get_locale

from kiosk import follow_bp
from server.api.serialize import follow_url
from server.domain.errors import NotFound
from server.extensions import ctx
from server.i18n import short_language
from server.services import board, queries, receipts
from server.services.views import TicketView


@follow_bp.get("/t/<token>")
def follow_page(token: str):
    try:
        ticket = queries.ticket_by_follow_token(ctx(), token)
    except NotFound:
        return render_template("follow/missing.html", lang=_lang()), 404
    return render_template("follow/follow.html", ticket=_ticket_state(ticket), token=token,
                           csa=ctx().config.name, lang=_lang())


@follow_bp.get("/t/<token>.json")
def follow_state(token: str):
    return _ticket_state(queries.ticket_by_follow_token(ctx(), token))


@follow_bp.get("/t/<token>/qr.svg")
def qr_code(token: str):
    ticket = queries.ticket_by_follow_token(ctx(), token)
    out = io.BytesIO()
    segno.make(follow_url(ctx().config, ticket), error="m").save(
        out, kind="svg", scale=8, border=2, xmldecl=False, title="QR")
    response = Response(out.getvalue(), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _ticket_state(ticket: TicketView) -> dict[str, Any]:
    config = ctx().config
    service = config.service(ticket.service)
    name = service.name_en if _lang() == "en" and service.name_en else service.name
    return {
        "number": ticket.number,
        "service": ticket.service,
        "service_name": name,
        "agency_name": config.agency(service.agency).name,
        "status": ticket.status.value,
        "preferential": ticket.preferential,
        "position": ticket.position,
        "estimated_wait_minutes": board.estimate_for(ctx(), ticket),
        "counter_name": config.counter(ticket.counter).name if ticket.counter else None,
        "issued_at": format_datetime(ticket.issued_at, "HH:mm"),
        "receipt": _receipt_state(ticket),
    }


def _receipt_state(ticket: TicketView) -> dict[str, Any] | None:
    """A completed ticket's receipt: being signed, or ready to download and verify."""
    if ticket.status.value != "completed":
        return None
    receipt = receipts.for_ticket(ctx(), ticket.id)
    if receipt is None:
        return None
    return {
        "status": receipt.status,
        "verify_url": url_for("verify.receipt_page", folio=receipt.folio),
        "download_url": url_for("verify.download", folio=receipt.folio),
    }


def _lang() -> str:
    return short_language(str(get_locale()))
