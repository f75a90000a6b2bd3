"""Every state-changing request on a staff session needs the session's CSRF token. The routes
come from the URL map: every POST (PUT, PATCH, DELETE) rule except the bearer-token API, the
kiosk's device calls and the login form (which has a token of its own, tested in
test_login.py)."""

from __future__ import annotations

import pytest
from flask import Flask

from server.auth import accounts
from tests.auth.conftest import Browser
from tests.auth.test_staff_routes import ALLOWED, PUBLIC, served_routes, url
from tests.conftest import Auth

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
EXEMPT_PREFIXES = ("/api/", "/kiosk/")
LOGIN = ("POST", "/login")
JSON = {"Accept": "application/json"}


def session_routes(app: Flask) -> list[tuple[str, str]]:
    """The state-changing routes a staff session cookie authenticates."""
    return sorted(
        (method, template) for method, template in served_routes(app)
        if method in UNSAFE and not template.startswith(EXEMPT_PREFIXES)
        and (method, template) != LOGIN
    )


def _signed_in_for(login_as, method: str, template: str) -> Browser:
    """A browser signed in with a role the route allows (any role for public routes)."""
    roles = ALLOWED.get((method, template), {"admin"})
    username = {"admin": "admin", "manager": "gerente", "orientation": "orienta",
                "counter": "cajero"}[sorted(roles)[0]]
    return login_as(username)


@pytest.fixture
def values(ctx) -> dict[str, object]:
    target = accounts.create_account(ctx, username="blanco", display_name="Blanco",
                                     role="orientation", agency_id=None,
                                     password="una frase bastante larga", actor=accounts.CLI)
    return {"user_id": target.id, "counter_id": "V17", "zone_id": "planta-alta",
            "folio": "R7K2-9QXM-4TPD-H3WN"}


def test_there_are_session_routes_to_protect(app):
    routes = session_routes(app)
    assert ("POST", "/logout") in routes and ("POST", "/admin/staff") in routes
    assert all((method, template) in ALLOWED or (method, template) in PUBLIC
               for method, template in routes)


@pytest.mark.parametrize("sent", [None, "", "wrong-token", "x" * 43])
def test_a_missing_or_wrong_token_is_refused_with_403_on_every_session_route(
    app, login_as, values, everyone, sent
):
    for method, template in session_routes(app):
        browser = _signed_in_for(login_as, method, template)
        data = {} if sent is None else {"csrf_token": sent}
        response = browser.client.open(url(template, values), method=method, data=data,
                                       headers=JSON)
        assert response.status_code == 403, f"{method} {template}"
        assert response.get_json()["error"]["code"] == "csrf_failed", f"{method} {template}"
        # Nothing happened: the session is still there (even for /logout).
        assert browser.get("/auth/session").status_code == 200, f"{method} {template}"


def test_a_wrong_token_in_the_header_is_refused_too(app, login_as, values, everyone):
    for method, template in session_routes(app):
        browser = _signed_in_for(login_as, method, template)
        response = browser.client.open(url(template, values), method=method,
                                       headers={**JSON, "X-CSRF-Token": "wrong"})
        assert response.status_code == 403, f"{method} {template}"


def test_the_sessions_token_gets_past_the_check_in_a_field_or_a_header(app, login_as,
                                                                       values, everyone):
    for method, template in session_routes(app):
        for where in ("field", "header"):
            browser = _signed_in_for(login_as, method, template)
            token = browser.csrf_token()
            response = browser.client.open(
                url(template, values), method=method, headers={
                    **JSON, **({"X-CSRF-Token": token} if where == "header" else {})},
                data={"csrf_token": token} if where == "field" else {})
            refused = response.status_code == 403 and response.is_json and \
                response.get_json()["error"]["code"] == "csrf_failed"
            assert not refused, f"{where}: {method} {template}"


def test_a_form_post_without_the_token_gets_a_page_not_json(login_as, everyone):
    browser = login_as("admin")
    response = browser.post("/admin/staff", {"username": "x"}, csrf=False)
    assert response.status_code == 403
    assert response.mimetype == "text/html"
    assert "Solicitud rechazada" in response.text


def test_a_token_of_another_session_is_refused(login_as, everyone):
    alice = login_as("admin")
    other = login_as("admin")
    response = alice.client.post("/admin/staff", data={"csrf_token": other.csrf_token()},
                                 headers=JSON)
    assert response.status_code == 403


def test_bearer_token_calls_need_no_csrf_token_even_with_a_session_cookie(
    login_as, everyone, auth: Auth
):
    browser = login_as("admin")
    response = browser.client.post("/api/v1/counters/V17/call-next",
                                   headers={"Authorization": f"Bearer {auth.secret('staff')}"})
    assert response.status_code in (200, 204)


def test_basic_credentials_which_browsers_resend_on_their_own_do_not_exempt(login_as,
                                                                           everyone):
    browser = login_as("admin")
    response = browser.client.post("/admin/staff", headers={
        **JSON, "Authorization": "Basic YWRtaW46c2VjcmV0"})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "csrf_failed"


def test_kiosk_device_calls_are_left_to_their_own_protection(login_as, everyone,
                                                             auth: Auth):
    browser = login_as("admin")
    kiosk = "/kiosk/kiosco-pa-1"
    assert browser.client.post(f"{kiosk}/pair",
                               json={"token": auth.secret("kiosk")}).status_code == 204
    response = browser.client.post(f"{kiosk}/tickets", json={"service": "ACTA", "key": "k-0001"},
                                   headers={"X-Turnos-Client": "kiosk"})
    assert response.status_code == 201


def test_no_get_route_changes_state(app, login_as, values, everyone, ctx):
    """GETs on every staff route leave the accounts and the audit log as they were."""
    from server.auth import audit

    browser = login_as("admin")
    before = (accounts.list_accounts(ctx), audit.head(ctx))
    for method, template in sorted(served_routes(app)):
        if method == "GET":
            browser.get(url(template, values))
    assert (accounts.list_accounts(ctx), audit.head(ctx)) == before
