"""The API calls kiosks and counters make all day, answered without Flask's per-request work.

Issuing tickets and calling the next one are nearly all of a CSA's requests. For each of them
Flask builds a request context, binds and matches the URL map, runs the before- and
after-request hooks and builds a Response object: measured, as much CPU as the whole
transaction that issues the ticket (docs/performance.md, "Fifth pass"). This WSGI middleware
answers those requests when they come in the plain form kiosks, counters and integrations send
(a bearer token whose role may make the call, a JSON body or none, no cookie, no query string)
by running the very endpoint functions the Flask views run (server/api/tickets.py), with the
same errors and the same security headers. Anything else (another path or method, no or a bad
token, a cookie, chunked bodies...) goes on to Flask unchanged, which answers it as before.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES

from server.api import tickets
from server.api.auth import ISSUERS, STAFF, principal_of
from server.api.errors import ApiError, error_body
from server.api.parse import is_json_type
from server.auth.headers import HEADERS, HSTS
from server.context import Turnos
from server.domain.errors import DomainError
from server.services.tokens import Principal, TokenChecker

log = logging.getLogger(__name__)

# Bigger bodies (no endpoint here needs more than a few hundred bytes) go the usual way.
MAX_BODY = 64 * 1024

_ISSUE = "/api/v1/tickets"
_CALL_NEXT = re.compile(r"/api/v1/counters/([A-Za-z0-9_.~-]{1,40})/call-next")
# No leading zeros and at most ten digits: every other spelling is Flask's to judge.
_TICKET_ACTION = re.compile(r"/api/v1/tickets/([1-9][0-9]{0,9})/([a-z-]+)")

_SECURITY_HEADERS = list(HEADERS.items())

Endpoint = Callable[[tickets.ApiCall], tickets.Answer]
WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class DirectApi:
    """WSGI middleware in front of the Flask application (see the module's docstring)."""

    def __init__(self, app: WsgiApp, turnos: Turnos, tokens: TokenChecker,
                 dumps: Callable[[Any], str]) -> None:
        self._app = app
        self._turnos = turnos
        self._tokens = tokens
        self._dumps = dumps

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        endpoint = self._endpoint(environ)
        if endpoint is None:
            return self._app(environ, start_response)
        endpoint, roles = endpoint
        principal = self._principal(environ)
        if principal is None or principal.role not in roles or not _plain(environ):
            return self._app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        data = environ["wsgi.input"].read(length) if length else b""
        mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
        call = tickets.ApiCall(self._turnos, principal, data, is_json_type(mimetype),
                               environ.get("HTTP_IDEMPOTENCY_KEY", ""))
        try:
            body, status = endpoint(call)
        except ApiError as error:
            body, status = error_body(error.code, error.message), error.status
        except DomainError as error:
            body, status = error_body(error.code, error.message), error.http_status
        except Exception:
            # As the Flask application's own handler for the unexpected (server/api/errors.py).
            log.exception("unhandled error on %s %s", environ["REQUEST_METHOD"],
                          environ["PATH_INFO"])
            body, status = error_body("internal_error", "something went wrong on our side"), 500
        return self._answer(environ, start_response, body, status)

    @staticmethod
    def _endpoint(environ: dict[str, Any]) -> tuple[Endpoint, tuple[str, ...]] | None:
        if environ["REQUEST_METHOD"] != "POST":
            return None
        path = environ.get("PATH_INFO", "")
        if path == _ISSUE:
            return tickets.issue, ISSUERS
        if match := _CALL_NEXT.fullmatch(path):
            counter_id = match[1]
            return (lambda call: tickets.call_next(call, counter_id)), STAFF
        if (match := _TICKET_ACTION.fullmatch(path)) and match[2] in tickets.TICKET_ACTIONS:
            ticket_id, action = int(match[1]), match[2]
            if ticket_id > tickets.TICKET_ID_MAX:
                return None
            return (lambda call: tickets.ticket_action(call, ticket_id, action)), STAFF
        return None

    def _principal(self, environ: dict[str, Any]) -> Principal | None:
        return principal_of(environ.get("HTTP_AUTHORIZATION", ""), self._tokens)

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any],
                body: dict[str, Any] | None, status: int) -> list[bytes]:
        if body is None:
            # As Flask answers an empty 204 (and RFC 9110 wants no Content-Length on one).
            payload = b""
            headers = [("Content-Type", "text/html; charset=utf-8")]
        else:
            # As flask.jsonify writes it (compact, then a newline).
            payload = (self._dumps(body) + "\n").encode()
            headers = [("Content-Type", "application/json"),
                       ("Content-Length", str(len(payload)))]
        headers += _SECURITY_HEADERS
        if environ.get("wsgi.url_scheme") in ("https", "wss"):
            headers.append(("Strict-Transport-Security", HSTS))
        start_response(f"{status} {HTTP_STATUS_CODES.get(status, 'Error').upper()}", headers)
        return [payload]


def _plain(environ: dict[str, Any]) -> bool:
    """A request whose every part this middleware handles as Flask would."""
    if environ.get("QUERY_STRING") or "HTTP_COOKIE" in environ:
        # ?lang= sets a cookie; a cookie may carry a staff session (CSRF, no-store).
        return False
    if "HTTP_TRANSFER_ENCODING" in environ:
        return False
    length = environ.get("CONTENT_LENGTH") or "0"
    return length.isdigit() and int(length) <= MAX_BODY


def install(app: Any, turnos: Turnos, tokens: TokenChecker) -> None:
    """Put the middleware in front of `app`'s WSGI callable (the Socket.IO middleware)."""
    app.wsgi_app = DirectApi(app.wsgi_app, turnos, tokens,
                             lambda obj: app.json.dumps(obj, separators=(",", ":")))
