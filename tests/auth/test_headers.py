"""Security headers on every kind of response: pages, JSON, static files, errors."""

from __future__ import annotations

import pytest

from tests.auth.conftest import signed_in

RESPONSES = {
    "html page": ("GET", "/login", 200),
    "start page": ("GET", "/", 200),
    "json api": ("GET", "/api/v1/services", 200),
    "json error": ("GET", "/api/v1/tickets/1", 401),
    "static file": ("GET", "/static/server/css/staff.css", 200),
    "kiosk static file": ("GET", "/kiosk/static/kiosk.js", 200),
    "kiosk page": ("GET", "/kiosk/kiosco-pa-1", 401),
    "not found page": ("GET", "/no-such-page", 404),
    "method not allowed": ("DELETE", "/login", 405),
}


def _open(client, kind: str, **kwargs):
    """The response to one of RESPONSES, closed (static files are streamed from disk)."""
    method, path, status = RESPONSES[kind]
    response = client.open(path, method=method, **kwargs)
    response.close()
    assert response.status_code == status
    return response


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.partition(" ")[2] for part in policy.split("; ")}


@pytest.mark.parametrize("kind", sorted(RESPONSES))
def test_every_response_carries_the_security_headers(client, kind):
    response = _open(client, kind)
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no other hosts
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


@pytest.mark.parametrize("kind", sorted(RESPONSES))
def test_over_https_every_response_also_asks_for_https_from_now_on(client, kind):
    response = _open(client, kind, base_url="https://localhost")
    hsts = response.headers["Strict-Transport-Security"]
    assert int(hsts.removeprefix("max-age=")) >= 365 * 24 * 3600


def test_staff_pages_are_not_stored_by_caches(staff, new_browser):
    staff("root", role="admin", agency=None)
    browser = signed_in(new_browser, "root")
    assert browser.get("/admin/staff").headers["Cache-Control"] == "no-store"
    assert browser.get("/auth/session").headers["Cache-Control"] == "no-store"


def test_no_template_has_inline_scripts_styles_or_handlers():
    """What the CSP would block in a browser, caught before one runs."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    templates = [path for package in ("server", "kiosk", "counter", "display")
                 for path in (root / package).glob("**/templates/**/*.html")]
    assert templates
    for template in templates:
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>|"
                                 r"<style|\sstyle=|\son[a-z]+=", text):
            offenders.append(f"{template.relative_to(root)}: {match.group(0)}")
    assert offenders == []
