"""Kiosk devices: paired once with a kiosk token, then recognised by an HttpOnly cookie.

The cookie holds the token itself (checked against its stored hash on each request, with the
token cache) rather than a session signed with the app's key, so a kiosk stays paired across
server restarts and key rotation, and revoking the token unpairs it.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Response, request

from server.api.errors import ApiError
from server.extensions import ext
from server.services.tokens import Principal

DEVICE_COOKIE = "turnos_device"
DEVICE_ROLES = ("kiosk",)
F = TypeVar("F", bound=Callable)
_FIVE_YEARS = 5 * 365 * 24 * 3600


def device_principal() -> Principal | None:
    secret = request.cookies.get(DEVICE_COOKIE)
    if not secret:
        return None
    principal = ext().tokens.principal(secret)
    if principal is None or principal.role not in DEVICE_ROLES:
        return None
    return principal


def pair(response: Response, secret: str) -> bool:
    """Set the device cookie when `secret` is a valid kiosk token."""
    principal = ext().tokens.principal(secret)
    if principal is None or principal.role not in DEVICE_ROLES:
        return False
    response.set_cookie(DEVICE_COOKIE, secret, max_age=_FIVE_YEARS, httponly=True,
                        secure=request.is_secure, samesite="Strict", path="/")
    return True


def requires_device(view: F) -> F:
    """JSON endpoints of the kiosk page: a paired device, and a same-origin script caller.

    The custom header cannot be sent cross-origin without a CORS preflight, which this
    server never grants, so together with the SameSite=Strict cookie it stops forged posts.
    """

    @wraps(view)
    def wrapper(*args, **kwargs):
        if request.method != "GET" and request.headers.get("X-Turnos-Client") != "kiosk":
            raise ApiError(403, "forbidden", "requests must come from the kiosk page")
        principal = device_principal()
        if principal is None:
            raise ApiError(401, "device_not_paired", "this device is not paired as a kiosk")
        return view(*args, principal=principal, **kwargs)

    return wrapper  # type: ignore[return-value]
