"""Bearer tokens on the API: who is calling and whether their role may do this."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import g, request

from server.api.errors import ApiError
from server.extensions import ext
from server.services.tokens import Principal, TokenChecker

F = TypeVar("F", bound=Callable)

STAFF = ("staff", "admin")
ISSUERS = ("kiosk", "staff", "admin")
ANY = ("kiosk", "staff", "admin", "display")


def bearer_principal() -> Principal | None:
    return principal_of(request.headers.get("Authorization", ""), ext().tokens)


def principal_of(authorization: str, tokens: TokenChecker) -> Principal | None:
    """Who an `Authorization: Bearer <token>` header names (None: no or an unknown token)."""
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return tokens.principal(secret.strip())


def requires(*roles: str) -> Callable[[F], F]:
    """Refuse callers without a valid token (401) or with another role (403)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = bearer_principal()
            if principal is None:
                raise ApiError(401, "unauthorized", "a valid bearer token is required")
            if principal.role not in roles:
                raise ApiError(403, "forbidden", f"the {principal.role} role may not do this")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
