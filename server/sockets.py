"""Socket.IO handlers: authenticate on connect, subscribe to rooms with replay."""

from __future__ import annotations

import re
from typing import Any

from flask import request
from flask_socketio import SocketIO
from sqlalchemy import select

from server.extensions import Extensions
from server.models import Ticket
from server.services.tokens import Principal

_ROOM = re.compile(r"^(csa|agency:[\w-]{1,40}|service:[\w-]{1,40}|counter:[\w-]{1,40}|"
                   r"zone:[\w-]{1,40}|ticket:[\w-]{10,40})$")

# Which room kinds each role may join. Anyone may follow the hall's public information and one
# ticket by its link.
_ALLOWED = {
    None: {"csa", "service", "ticket"},
    "display": {"csa", "zone", "agency", "service", "ticket"},
    "kiosk": {"csa", "zone", "agency", "service", "ticket"},
    "staff": {"csa", "zone", "agency", "service", "counter", "ticket"},
    "admin": {"csa", "zone", "agency", "service", "counter", "ticket"},
}


def register(socketio: SocketIO, ext: Extensions) -> None:
    principals: dict[str, Principal | None] = {}

    @socketio.on("connect")
    def on_connect(auth: Any = None):
        token = auth.get("token") if isinstance(auth, dict) else None
        # Paired kiosks (and, later, displays) carry their token in an HttpOnly cookie.
        token = token or request.cookies.get("turnos_device")
        principal = None
        if token:
            principal = ext.tokens.principal(str(token))
            if principal is None:
                return False  # a wrong token is refused rather than downgraded
        principals[request.sid] = principal

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        principals.pop(request.sid, None)

    @socketio.on("subscribe")
    def on_subscribe(data: Any = None):
        """{rooms: [...], last_seq?: int} -> {ok, seq, replayed} or {ok: false, error}."""
        if not isinstance(data, dict) or not isinstance(data.get("rooms"), list):
            return _refuse("bad_request", "send {rooms: [...], last_seq?: int}")
        last_seq = data.get("last_seq")
        if last_seq is not None and (not isinstance(last_seq, int) or last_seq < 0):
            return _refuse("bad_request", "last_seq must be a non-negative integer")
        principal = principals.get(request.sid)
        allowed = _ALLOWED[principal.role if principal else None]
        rooms: list[str] = []
        for room in data["rooms"]:
            if not isinstance(room, str) or not _ROOM.match(room):
                return _refuse("bad_room", f"unknown room {room!r}")
            kind = room.partition(":")[0]
            if kind not in allowed:
                return _refuse("forbidden", f"this connection may not join {room}")
            if kind == "ticket":
                ticket_id = _ticket_id(ext, room.partition(":")[2])
                if ticket_id is None:
                    return _refuse("not_found", "no ticket has that link")
                room = f"ticket:{ticket_id}"
            rooms.append(room)
        result = ext.hub.subscribe(request.sid, rooms, last_seq)
        return {"ok": True, **result}



def allowed_origin(base_url: str):
    """Socket.IO origin check: this server's own pages, or the configured public URL.

    Cross-origin pages are refused so that another site cannot drive a staff browser's
    socket. Clients that send no Origin (scripts, the python client) are allowed; they still
    need a token for anything beyond public rooms.
    """

    def check(origin: str | None, environ: dict) -> bool:
        if origin is None:
            return True
        own = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}"
        return origin in (own, base_url)

    return check


def _ticket_id(ext: Extensions, follow_token: str) -> int | None:
    with ext.ctx.db.read() as conn:
        return conn.execute(
            select(Ticket.id).where(Ticket.follow_token == follow_token)
        ).scalar()


def _refuse(code: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": code, "message": message}}

