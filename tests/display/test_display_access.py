"""Who may use the hall display's routes. Like tests/auth/test_staff_routes.py, the routes
come from the URL map, so a new display route fails here until it is given a policy."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient

from server.context import Turnos
from server.services import tokens
from tests.display.conftest import ZONE

# Anyone may open the page (it shows the pairing form until paired) and try to pair.
OPEN = {("GET", "/display/{zone_id}"), ("POST", "/display/{zone_id}/pair")}
# The rest need a browser paired as a display.
PAIRED_ONLY = {
    ("GET", "/display/{zone_id}/state"),
    ("GET", "/display/{zone_id}/announcement/{ticket_id}"),
    ("GET", "/display/{zone_id}/announcement/{ticket_id}/audio.wav"),
}
VALUES = {"zone_id": ZONE, "ticket_id": 1}


def display_routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (method, re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("display.") and rule.endpoint != "display.static"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def test_every_display_route_has_a_declared_policy(app):
    assert display_routes(app) == OPEN | PAIRED_ONLY


def test_display_routes_refuse_a_browser_that_is_not_paired(client: FlaskClient):
    for _, template in sorted(PAIRED_ONLY):
        response = client.get(template.format(**VALUES))
        assert response.status_code == 401, template
        assert response.get_json()["error"]["code"] == "device_not_paired"


def test_a_kiosk_or_staff_token_cookie_does_not_make_a_display(client: FlaskClient,
                                                              ctx: Turnos):
    for role in ("kiosk", "staff", "admin"):
        secret = tokens.create_token(ctx, f"not-a-display-{role}", role)
        client.set_cookie("turnos_display", secret, domain="localhost")
        client.set_cookie("turnos_device", secret, domain="localhost")
        for _, template in sorted(PAIRED_ONLY):
            assert client.get(template.format(**VALUES)).status_code == 401, (role, template)
        assert client.get(f"/display/{ZONE}").status_code == 401


def test_pairing_refuses_tokens_of_other_roles_and_wrong_tokens(client: FlaskClient,
                                                               ctx: Turnos):
    kiosk = tokens.create_token(ctx, "kiosko", "kiosk")
    for token in (kiosk, "not-a-token"):
        response = client.post(f"/display/{ZONE}/pair", json={"token": token})
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "not_a_display_token"
        assert client.get_cookie("turnos_display") is None


def test_pairing_with_a_display_token_sets_an_httponly_strict_cookie(client: FlaskClient,
                                                                    ctx: Turnos):
    secret = tokens.create_token(ctx, "pantalla", "display")
    response = client.post(f"/display/{ZONE}/pair", json={"token": secret})

    assert response.status_code == 204
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert client.get(f"/display/{ZONE}/state").status_code == 200


def test_bad_pairing_requests_get_json_errors_not_500(client: FlaskClient):
    assert client.post(f"/display/{ZONE}/pair", data="x",
                       content_type="text/plain").status_code == 415
    assert client.post(f"/display/{ZONE}/pair", json={"token": 5}).status_code == 422
    assert client.post(f"/display/{ZONE}/pair", json={"other": "x"}).status_code == 422
    assert client.post("/display/nowhere/pair", json={"token": "x"}).status_code == 404

