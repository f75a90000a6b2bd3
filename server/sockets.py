"""Socket.IO handlers: authenticate on connect, subscribe to rooms with replay."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from flask import request
from flask_socketio import SocketIO
from sqlalchemy import select

from server import websocket
from server.auth import sessions
from server.config_types import CsaConfig
from server.extensions import Extensions
from server.models import Ticket
from server.peers import Peers

_ROOM = re.compile(r"^(csa|agency:[\w-]{1,40}|service:[\w-]{1,40}|counter:[\w-]{1,40}|"
                   r"zone:[\w-]{1,40}|ticket:[\w-]{10,40})$")

_EVERYTHING = {"csa", "zone", "agency", "service", "counter", "ticket"}
# Which room kinds each role may join. Anyone may follow the hall's public information and one
# ticket by its link. Token roles first, then staff account roles.
_ALLOWED = {
    None: {"csa", "service", "ticket"},
    "display": {"csa", "zone", "agency", "service", "ticket"},
    "kiosk": {"csa", "zone", "agency", "service", "ticket"},
    "staff": _EVERYTHING,
    "admin": _EVERYTHING,
}
_STAFF_ALLOWED = {
    # Counter staff: everything public, and only their own agency's agency, service and
    # counter rooms (see `may_join`).
    "counter": _EVERYTHING,
    "orientation": {"csa", "zone", "agency", "service", "ticket"},
    "manager": _EVERYTHING,
    "admin": _EVERYTHING,
}


@dataclass(frozen=True, slots=True)
class Listener:
    """Who is on the other end of one connection."""

    # A token role ("display", "kiosk", "staff", "admin"), a staff account role ("counter",
    # "orientation", "manager", "admin") or None for anonymous screens.
    role: str | None = None
    # For staff accounts: their session and agency.
    session_id: str | None = None
    agency: str | None = None

    @property
    def is_staff_account(self) -> bool:
        return self.session_id is not None


class Connections:
    """The listener behind each connection, and the connections of each staff session.

    Each server process holds its own connections; what concerns every connection of the CSA
    (a message for a zone's displays, a staff session that ended) goes to the other processes
    too (server/peers.py).
    """

    def __init__(self, socketio: SocketIO, peers: Peers | None = None) -> None:
        self._socketio = socketio
        self._peers = peers
        self._lock = threading.Lock()
        self._listeners: dict[str, Listener] = {}
        if peers is not None:
            peers.on("end_session", self._end_session_here)
            peers.on("emit", lambda args: socketio.emit(args[0], args[1], to=args[2]))

    def add(self, sid: str, listener: Listener) -> None:
        with self._lock:
            self._listeners[sid] = listener

    def get(self, sid: str) -> Listener:
        with self._lock:
            return self._listeners.get(sid, Listener())

    def remove(self, sid: str) -> None:
        with self._lock:
            self._listeners.pop(sid, None)

    def emit(self, event: str, data: Any, *, to: str) -> None:
        """Send to a room's connections in every server process."""
        self._socketio.emit(event, data, to=to)
        if self._peers is not None:
            self._peers.tell("emit", [event, data, to])

    def end_session(self, session_id: str) -> None:
        """Disconnect every socket opened on this staff session (it has just ended)."""
        self._end_session_here(session_id)
        if self._peers is not None:
            self._peers.tell("end_session", session_id)

    def _end_session_here(self, session_id: str) -> None:
        with self._lock:
            sids = [sid for sid, listener in self._listeners.items()
                    if listener.session_id == session_id]
        for sid in sids:
            self._socketio.server.disconnect(sid, namespace="/")


def register(socketio: SocketIO, ext: Extensions) -> None:
    connections = ext.connections
    websocket.install(socketio.server.eio)

    @socketio.on("connect")
    def on_connect(auth: Any = None):
        token = auth.get("token") if isinstance(auth, dict) else None
        # Paired kiosks and hall displays carry their token in an HttpOnly cookie.
        token = (token or request.cookies.get("turnos_device")
                 or request.cookies.get("turnos_display"))
        listener = Listener()
        if token:
            principal = ext.tokens.principal(str(token))
            if principal is None:
                return False  # a wrong token is refused rather than downgraded
            listener = Listener(role=principal.role)
        else:
            # Staff pages: the session cookie the browser sends with the handshake. A stale
            # one (after an idle timeout) only leaves the screen with the public rooms.
            info = sessions.load(ext.ctx, sessions.cookie_secret(request))
            if info is not None:
                listener = Listener(role=info.role, session_id=info.id, agency=info.agency_id)
        connections.add(request.sid, listener)

    @socketio.on("disconnect")
    def on_disconnect(*_args):
        connections.remove(request.sid)

    @socketio.on("subscribe")
    def on_subscribe(data: Any = None):
        """{rooms: [...], last_seq?: int} -> {ok, seq, replayed} or {ok: false, error}."""
        if not isinstance(data, dict) or not isinstance(data.get("rooms"), list):
            return _refuse("bad_request", "send {rooms: [...], last_seq?: int}")
        last_seq = data.get("last_seq")
        if last_seq is not None and (not isinstance(last_seq, int) or last_seq < 0):
            return _refuse("bad_request", "last_seq must be a non-negative integer")
        listener = connections.get(request.sid)
        if listener.is_staff_account and sessions.load_by_id(ext.ctx, listener.session_id
                                                             or "") is None:
            return _refuse("unauthorized", "the staff session has ended; sign in again")
        rooms: list[str] = []
        for room in data["rooms"]:
            if not isinstance(room, str) or not _ROOM.match(room):
                return _refuse("bad_room", f"unknown room {room!r}")
            if not may_join(listener, room, ext.ctx.config):
                return _refuse("forbidden", f"this connection may not join {room}")
            if room.startswith("ticket:"):
                ticket_id = _ticket_id(ext, room.partition(":")[2])
                if ticket_id is None:
                    return _refuse("not_found", "no ticket has that link")
                room = f"ticket:{ticket_id}"
            rooms.append(room)
        result = ext.hub.subscribe(request.sid, rooms, last_seq)
        return {"ok": True, **result}


def may_join(listener: Listener, room: str, config: CsaConfig) -> bool:
    """Whether this listener may receive the events of `room` (a well-formed room name)."""
    kind, _, value = room.partition(":")
    if not listener.is_staff_account:
        return kind in _ALLOWED.get(listener.role, set())
    if kind not in _STAFF_ALLOWED.get(listener.role or "", set()):
        return False
    if listener.role != "counter" or kind in ("csa", "zone", "ticket"):
        return True
    # Counter staff: only rooms of their own agency.
    if kind == "agency":
        return value == listener.agency
    owner = {"service": {s.code: s.agency for s in config.services},
             "counter": {c.id: c.agency for c in config.counters}}[kind]
    return owner.get(value) == listener.agency


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
