"""CSRF protection for everything a staff session cookie authenticates.

One `before_request` hook: a request that changes state (any method but GET, HEAD and OPTIONS)
and rides on a live staff session must carry that session's token, in the `X-CSRF-Token`
header (scripts) or the `csrf_token` form field (forms); otherwise it is refused with a 403.
Pages get the token from `{{ csrf_token() }}`; staff.js reads it from
`<meta name="csrf-token">`. State never changes on GET: every such view is a POST.

Not checked here, and why that is safe:
- Requests with an `Authorization: Bearer` header (the JSON API's tokens). A browser never
  adds a bearer header by itself, and another site's script cannot add one without a CORS
  preflight, which this server never grants; so such a request was not forged by a page.
  (Basic credentials, which browsers do resend on their own, get no exemption.)
- The kiosk blueprint. Its device calls need the `X-Turnos-Client` header (again impossible
  cross-origin without a preflight) and a SameSite=Strict device cookie (see kiosk/device.py),
  and pairing takes a JSON body, which a cross-site form cannot send.
- The login form, which has no session yet. It carries a double-submit token instead: a
  random value in an HttpOnly, SameSite=Strict cookie (`__Host-` over HTTPS, so no other host
  can plant one) that the form must repeat; `login_token_ok` checks it.
- Requests with no live session: there is nothing for a forgery to ride on, and the view's
  own check refuses them (401, or a redirect to the login page).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from server.api.errors import wants_json
from server.auth import sessions
from server.auth.access import current_staff

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
EXEMPT_BLUEPRINTS = frozenset({"kiosk"})
LOGIN_ENDPOINT = "auth.sign_in"
LOGIN_COOKIE = "turnos_login"
SECURE_LOGIN_COOKIE = "__Host-turnos_login"


def init_app(app: Flask) -> None:
    app.before_request(protect)
    app.context_processor(lambda: {"csrf_token": page_token})


def protect() -> ResponseReturnValue | None:
    """Refuse a state-changing request on a staff session without the session's token."""
    if request.method in SAFE_METHODS or request.blueprint in EXEMPT_BLUEPRINTS:
        return None
    if request.endpoint == LOGIN_ENDPOINT or _bearer():
        return None
    if sessions.cookie_secret(request) is None:
        return None
    principal = current_staff()
    if principal is None:
        return None
    sent = request.headers.get(HEADER) or request.form.get(FIELD) or ""
    if hmac.compare_digest(sent.encode(), principal.csrf_token.encode()):
        return None
    return refuse()


def refuse() -> ResponseReturnValue:
    """403, as JSON for scripts or as a page for forms."""
    message = "the request lacks this session's CSRF token; reload the page and try again"
    if wants_json() or HEADER in request.headers:
        return jsonify(error={"code": "csrf_failed", "message": message}), 403
    return render_template("auth/csrf_failed.html"), 403


def page_token() -> str:
    """The token a page must send back with the session's requests ("" when signed out)."""
    principal = current_staff()
    return principal.csrf_token if principal is not None else ""


def login_cookie_name() -> str:
    return SECURE_LOGIN_COOKIE if request.is_secure else LOGIN_COOKIE


def new_login_token() -> str:
    """The login form's token: the browser's current one if it has one, else a fresh one."""
    current = request.cookies.get(login_cookie_name(), "")
    return current if 32 <= len(current) <= 64 else secrets.token_urlsafe(32)


def set_login_cookie(response: Response, token: str) -> None:
    response.set_cookie(login_cookie_name(), token, httponly=True, secure=request.is_secure,
                        samesite="Strict", path="/")


def clear_login_cookie(response: Response) -> None:
    response.delete_cookie(login_cookie_name(), httponly=True, secure=request.is_secure,
                           samesite="Strict", path="/")


def login_token_ok() -> bool:
    """The login form repeats the token of the login cookie."""
    cookie = request.cookies.get(login_cookie_name(), "")
    sent = request.form.get(FIELD, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


def _bearer() -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(credentials.strip())
