"""Security headers on every response: pages, JSON, static files and errors alike.

The Content-Security-Policy allows scripts, styles and connections from this server only:
no inline scripts or styles (pages pass data in `<script type="application/json">` blocks,
which are not executed, and data-* attributes), no framing (clickjacking), no <base> games,
and forms post only here. `connect-src 'self'` covers the same-origin WebSocket of Socket.IO
in current browsers (CSP Level 3 matches ws:/wss: of the page's own host).
"""

from __future__ import annotations

from flask import Flask, Response, request

from server.auth.access import staff_seen

CSP = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'self'",
))
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # URLs can hold a ticket's follow link: never hand them to another site.
    "Referrer-Policy": "no-referrer",
    # For browsers older than frame-ancestors.
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
# Two years, the preload list's minimum; subdomains are left alone (the CSA may share a
# domain with hosts that are not ours).
HSTS = "max-age=63072000"


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


# (lower-case name, name, value): checked in one pass over the response's headers, since
# werkzeug's setdefault scans them all once per header.
_MISSING_CHECK = tuple((name.lower(), name, value) for name, value in HEADERS.items())


def add_security_headers(response: Response) -> Response:
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for lower, name, value in _MISSING_CHECK:
        if lower not in present:
            headers.add(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    # Pages seen on a staff session are personal: keep them out of shared caches and history.
    if staff_seen() is not None and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
    return response
