"""Managers' page for the hall displays: a link to each zone's display and its ticker line.

Setting or clearing a line is a POST with the session's CSRF token (server/auth/csrf.py),
audited (display.message_set / display.message_cleared), and pushed to the zone's displays at
once as a `display.message` Socket.IO message (displays also re-read it when they reconnect).
"""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _

from display import manage_bp as bp
from server.auth.access import current_staff, requires_login
from server.config_types import DisplayZone
from server.extensions import ctx, ext
from server.models.display import DISPLAY_MESSAGE_MAX
from server.services import display

MANAGERS = ("manager", "admin")
_DONE = ("set", "cleared")


@bp.get("/")
@requires_login(*MANAGERS)
def displays_page():
    return _page()


@bp.post("/<zone_id>/message")
@requires_login(*MANAGERS)
def set_message(zone_id: str):
    zone = _zone(zone_id)
    minutes_text = request.form.get("minutes", "").strip()
    if minutes_text and not minutes_text.isdigit():
        return _page(error=_("The duration must be a whole number of minutes."), zone=zone,
                     status=422)
    staff = current_staff()
    assert staff is not None  # requires_login
    try:
        message = display.set_message(
            ctx(), zone, request.form.get("text", "")[:2000],
            minutes=int(minutes_text) if minutes_text else None,
            actor=staff.username, role=staff.role, device=request.remote_addr)
    except display.InvalidMessage as error:
        return _page(error=_message_error(error), zone=zone, status=422)
    _push(zone, message.as_json())
    return redirect(url_for("displays.displays_page", done="set", zone=zone.id), 303)


@bp.post("/<zone_id>/message/clear")
@requires_login(*MANAGERS)
def clear_message(zone_id: str):
    zone = _zone(zone_id)
    staff = current_staff()
    assert staff is not None  # requires_login
    display.clear_message(ctx(), zone, actor=staff.username, role=staff.role,
                          device=request.remote_addr)
    _push(zone, None)
    return redirect(url_for("displays.displays_page", done="cleared", zone=zone.id), 303)


def _push(zone: DisplayZone, message: dict | None) -> None:
    """Tell the zone's displays now. No seq: it is not an event of the log, and a display
    that misses it reads the line again when it reconnects."""
    ext().connections.emit("display.message", {"zone": zone.id, "message": message},
                           to=f"zone:{zone.id}")


def _page(*, error: str | None = None, zone: DisplayZone | None = None, status: int = 200):
    config = ctx().config
    done, which = request.args.get("done"), request.args.get("zone", "")
    notice = None
    if done in _DONE and any(z.id == which for z in config.zones):
        name = config.zone(which).name
        notice = (_("The message of %(zone)s is on its displays.", zone=name) if done == "set"
                  else _("The message of %(zone)s was removed.", zone=name))
    zones = [(z, display.current_message(ctx(), z.id)) for z in config.zones]
    return render_template(
        "display/manage.html", zones=zones, error=error, error_zone=zone.id if zone else None,
        notice=notice, max_length=DISPLAY_MESSAGE_MAX, form=request.form,
    ), status


def _message_error(error: display.InvalidMessage) -> str:
    if error.code == "message_empty":
        return _("Write the message to show, or remove it.")
    if error.code == "message_too_long":
        return _("The message is too long: at most %(n)s characters.", n=DISPLAY_MESSAGE_MAX)
    if error.code == "message_duration":
        return _("A message lasts from 1 minute to 7 days (10080 minutes).")
    return _("The message contains characters that cannot be shown.")


def _zone(zone_id: str) -> DisplayZone:
    try:
        return ctx().config.zone(zone_id)
    except KeyError:
        abort(404)
