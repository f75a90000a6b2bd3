"""The display page and the calls it makes: its state, and the announcement of a call."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import (
    Flask,
    abort,
    current_app,
    make_response,
    render_template,
    send_file,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _

from display import bp
from display.device import display_principal, pair, requires_display
from server.api.errors import ApiError
from server.api.parse import json_body, text
from server.config_types import DisplayZone
from server.extensions import ctx, ext
from server.i18n import short_language
from server.services import display
from server.services.tokens import Principal

# A display may be left alone for weeks: it keeps at most this many calls in memory.
SHOWN_CALLS = 6


@bp.get("/<zone_id>")
def display_page(zone_id: str):
    zone = _zone(zone_id)
    if display_principal() is None:
        return render_template("display/pair.html", zone=zone), 401
    return render_template("display/display.html", zone=zone, data=_page_data(zone),
                           lang=short_language(str(get_locale())))


@bp.post("/<zone_id>/pair")
def pair_device(zone_id: str):
    _zone(zone_id)
    body = json_body({"token"})
    secret = text(body, "token", required=True, max_len=200)
    response = make_response("", 204)
    if not pair(response, secret or ""):
        raise ApiError(403, "not_a_display_token", "that is not a valid display token")
    return response


@bp.get("/<zone_id>/state")
@requires_display
def display_state(zone_id: str, principal: Principal):
    return _state(_zone(zone_id, json=True))


@bp.get("/<zone_id>/announcement/<int:ticket_id>")
@requires_display
def announcement(zone_id: str, ticket_id: int, principal: Principal):
    zone = _zone(zone_id, json=True)
    spoken = display.announcement(ctx(), zone, ticket_id)
    return {
        "text": spoken.text,
        "lang": spoken.lang,
        "audio_url": url_for("display.announcement_audio", zone_id=zone.id,
                             ticket_id=ticket_id),
    }


@bp.get("/<zone_id>/announcement/<int:ticket_id>/audio.wav")
@requires_display
def announcement_audio(zone_id: str, ticket_id: int, principal: Principal):
    """The sentence of `announcement`, spoken by espeak-ng (for screens without a voice)."""
    zone = _zone(zone_id, json=True)
    spoken = display.announcement(ctx(), zone, ticket_id)
    try:
        path = speech_cache(current_app).audio(spoken.text, spoken.lang)
    except display.SpeechUnavailable as error:
        current_app.logger.warning("espeak-ng could not speak %r: %s", spoken.text, error)
        raise ApiError(503, "speech_unavailable", "the server cannot make speech now") from None
    response = send_file(path, mimetype="audio/wav", max_age=3600, conditional=True)
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def speech_cache(app: Flask) -> display.SpeechCache:
    """One cache per app, under instance/speech/ (git-ignored, like the database)."""
    cache = app.extensions.get("turnos_speech")
    if cache is None:
        folder = app.config.get("DISPLAY_SPEECH_FOLDER") or Path(app.instance_path) / "speech"
        cache = app.extensions["turnos_speech"] = display.SpeechCache(Path(folder))
    return cache


def _zone(zone_id: str, *, json: bool = False) -> DisplayZone:
    try:
        return ctx().config.zone(zone_id)
    except KeyError:
        if json:
            raise ApiError(404, "unknown_zone", "there is no display zone with that id") from None
        abort(404)


def _page_data(zone: DisplayZone) -> dict[str, Any]:
    config = ctx().config
    services = display.zone_services(ctx(), zone)
    return {
        "zone": zone.id,
        "zoneName": zone.name,
        "timeZone": config.timezone.key,
        "volume": zone.volume,
        "voice": zone.voice,
        "shownCalls": SHOWN_CALLS,
        "stateUrl": url_for("display.display_state", zone_id=zone.id),
        "announcementUrl": url_for("display.announcement", zone_id=zone.id, ticket_id=0)[:-1],
        "chimeUrl": url_for("display.static", filename="chime.wav"),
        "counters": {c.id: c.name for c in config.counters},
        "services": [
            {"code": code, "prefix": config.service(code).prefix,
             "name": _service_name(code)}
            for code in services
        ],
        "state": _state(zone),
        "text": {
            "waiting": _("%(n)s waiting"),
            "waitingNone": _("Nobody waiting"),
            "preferential": _("Preferential"),
            "recall": _("Called again"),
            "noCalls": _("Calls will appear here"),
            "goTo": _("Go to"),
        },
    }


def _state(zone: DisplayZone) -> dict[str, Any]:
    # Read first: every event up to `seq` is in what follows, later ones come live or replayed.
    seq = ext().hub.dispatched
    message = display.current_message(ctx(), zone.id)
    calls = display.recent_calls(ctx(), zone, limit=SHOWN_CALLS)
    return {
        "seq": seq,
        "serverTime": int(ctx().clock.now().timestamp() * 1000),
        "calls": [call.as_json() for call in calls],
        "queues": display.waiting(ctx(), zone),
        "message": message.as_json() if message else None,
    }


def _service_name(code: str) -> str:
    service = ctx().config.service(code)
    if short_language(str(get_locale())) == "en" and service.name_en:
        return service.name_en
    return service.name
