"""Per-app handles: the Turnos context, the Socket.IO server, the hub, the token checker and
the live socket connections."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from flask import Flask, current_app
from flask_socketio import SocketIO

from server.context import Turnos
from server.realtime import Hub
from server.services.tokens import TokenChecker

if TYPE_CHECKING:  # server.sockets imports this module
    from server.sockets import Connections


@dataclass(slots=True)
class Extensions:
    ctx: Turnos
    socketio: SocketIO
    hub: Hub
    tokens: TokenChecker
    connections: Connections


def init_app(app: Flask, ext: Extensions) -> None:
    app.extensions["turnos"] = ext


def ext(app: Flask | None = None) -> Extensions:
    return (app or current_app).extensions["turnos"]


def ctx() -> Turnos:
    return ext().ctx
