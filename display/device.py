"""Hall display devices: paired once with a display token, then recognised by a cookie.

The same scheme as the kiosk (kiosk/device.py): the HttpOnly, SameSite=Strict cookie holds the
token itself, checked against its stored hash on each request, so a display stays paired
across server restarts and revoking the token unpairs it. It is a cookie of its own, so a
technician's laptop can be paired as a kiosk and as a display at once; the Socket.IO handshake
reads it too (server/sockets.py) to let the display into its zone room.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, request

from server.api.errors import ApiError
from server.extensions import ext
from server.services.tokens import Principal

DISPLAY_COOKIE = "turnos_display"
DISPLAY_ROLES = ("display",)
F = TypeVar("F", bound=Callable)
_FIVE_YEARS = 5 * 365 * 24 * 3600


def display_principal() -> Principal | None:
    """The display token this browser was paired with, if it is still valid."""
    secret = request.cookies.get(DISPLAY_COOKIE)
    if not secret:
        return None
    principal = ext().tokens.principal(secret)
    if principal is None or principal.role not in DISPLAY_ROLES:
        return None
    return principal


def pair(response: Response, secret: str) -> bool:
    """Set the display cookie when `secret` is a valid display token."""
    principal = ext().tokens.principal(secret)
    if principal is None or principal.role not in DISPLAY_ROLES:
        return False
    response.set_cookie(DISPLAY_COOKIE, secret, max_age=_FIVE_YEARS, httponly=True,
                        secure=request.is_secure, samesite="Strict", path="/")
    return True


def requires_display(view: F) -> F:
    """The display page's own GET calls (state, announcements): a paired display only."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        principal = display_principal()
        if principal is None:
            raise ApiError(401, "device_not_paired", "this device is not paired as a display")
        return view(*args, principal=principal, **kwargs)

    return wrapper  # type: ignore[return-value]
