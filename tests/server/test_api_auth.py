"""Who may call what. The routes come from the URL map, so a new route fails here until it
is given a role policy below."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.models.access import ROLES
from server.services import tokens

API = "/api/v1"
STAFF = {"staff", "admin"}

PUBLIC = {
    ("GET", f"{API}/services"),
    ("GET", f"{API}/counters"),
    ("GET", f"{API}/queues"),
    ("GET", f"{API}/openapi.json"),
    ("GET", "/healthz"),
}
# Public too, but they answer about what they are given: anyone holding a receipt may check it.
PUBLIC_ABOUT_INPUT = {
    ("GET", f"{API}/receipts/{{folio}}"),
    ("POST", f"{API}/receipts/verify"),
}
ANYONE = PUBLIC | PUBLIC_ABOUT_INPUT
# The roles each route lets in; every other role gets a 403.
ALLOWED = {
    ("POST", f"{API}/tickets"): {"kiosk", "staff", "admin"},
    ("GET", f"{API}/tickets/{{ticket_id}}"): {"kiosk", "staff", "admin", "display"},
    ("POST", f"{API}/counters/{{counter_id}}/call-next"): STAFF,
    ("POST", f"{API}/counters/{{counter_id}}/call"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/recall"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/start"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/complete"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/no-show"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/cancel"): STAFF,
    ("POST", f"{API}/tickets/{{ticket_id}}/transfer"): STAFF,
    ("GET", f"{API}/printers"): STAFF,
    ("POST", f"{API}/counters/{{counter_id}}/open"): STAFF,
    ("POST", f"{API}/counters/{{counter_id}}/pause"): STAFF,
    ("POST", f"{API}/counters/{{counter_id}}/close"): STAFF,
    ("GET", f"{API}/counters/{{counter_id}}/day"): STAFF,
}


def served_routes(app: Flask) -> set[tuple[str, str]]:
    """(METHOD, path template) of every API rule in the URL map, plus the health check."""
    return {
        (method, re.sub(r"<(?:[^<>:]+:)?([^<>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(f"{API}/") or rule.rule == "/healthz"
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def secured_routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(served_routes(app) - ANYONE)


def send(client: FlaskClient, method: str, template: str, headers: dict[str, str] | None = None,
         ticket_id: int = 1):
    url = template.format(ticket_id=ticket_id, counter_id="V17")
    return client.open(url, method=method, headers=headers or {})


def assert_refused(response, status: int, code: str, route: str) -> None:
    assert response.status_code == status, f"{route}: {response.status_code}"
    assert response.mimetype == "application/json", route
    assert response.get_json()["error"]["code"] == code, route


def test_every_api_route_has_a_declared_role_policy(app):
    served = served_routes(app)
    assert served - ANYONE - ALLOWED.keys() == set(), "declare who may call the new routes"
    assert (ANYONE | ALLOWED.keys()) - served == set(), "these routes are gone"


@pytest.mark.parametrize("authorization", [
    None, "Basic c3RhZmY6c2VjcmV0", "Bearer", "Bearer ", "Bearer tk_not-a-real-token",
])
def test_routes_that_need_a_token_refuse_anonymous_callers_with_401(app, client, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, template in secured_routes(app):
        response = send(client, method, template, headers)
        assert_refused(response, 401, "unauthorized", f"{method} {template}")


def test_routes_refuse_roles_that_may_not_use_them_with_403(app, client, auth):
    for method, template in secured_routes(app):
        for role in sorted(set(ROLES) - ALLOWED[(method, template)]):
            response = send(client, method, template, auth(role))
            assert_refused(response, 403, "forbidden", f"{role}: {method} {template}")


def test_roles_a_route_allows_get_past_the_token_check(app, client, auth):
    for method, template in secured_routes(app):
        for role in sorted(ALLOWED[(method, template)]):
            response = send(client, method, template, auth(role))
            refused = response.status_code == 401 or (
                response.status_code == 403
                and response.get_json()["error"]["code"] == "forbidden")
            assert not refused, f"{role}: {method} {template}: {response.get_json()}"


def test_a_display_token_can_neither_issue_nor_call(client, auth):
    display = auth.issuing("display")
    issue = client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=display)
    assert_refused(issue, 403, "forbidden", "issue")
    call = client.post(f"{API}/counters/V17/call-next", headers=auth("display"))
    assert_refused(call, 403, "forbidden", "call-next")


def test_a_kiosk_token_issues_but_cannot_call_or_complete(client, auth):
    issued = client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    assert issued.status_code == 201
    call = client.post(f"{API}/counters/V17/call-next", headers=auth("kiosk"))
    assert_refused(call, 403, "forbidden", "call-next")
    ticket = issued.get_json()["id"]
    complete = client.post(f"{API}/tickets/{ticket}/complete", headers=auth("kiosk"))
    assert_refused(complete, 403, "forbidden", "complete")


def test_public_routes_answer_without_a_token(client):
    for method, path in sorted(PUBLIC):
        response = client.open(path, method=method)
        assert response.status_code == 200, path
        assert response.mimetype == "application/json", path


def test_public_routes_about_input_judge_the_input_not_the_caller(client):
    unknown = client.get(f"{API}/receipts/ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert (unknown.status_code, unknown.get_json()["error"]["code"]) == (404, "not_found")
    empty = client.post(f"{API}/receipts/verify")
    assert empty.status_code in (415, 422), empty.get_json()
    assert empty.get_json()["error"]["code"] not in ("unauthorized", "forbidden")


def test_the_document_lists_the_roles_each_route_allows(client):
    spec = client.get(f"{API}/openapi.json").get_json()
    for path, item in spec["paths"].items():
        server = (item.get("servers") or spec["servers"])[0]["url"].rstrip("/")
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            route = (method.upper(), server + path)
            if route in ANYONE:
                assert operation["security"] == [], route
            else:
                assert set(operation["x-roles"]) == ALLOWED[route], route


def test_a_revoked_token_is_refused_by_a_server_started_afterwards(make_app, sqlite_url, ctx):
    secret = tokens.create_token(ctx, "counter-17", "staff")
    tokens.revoke_token(ctx, "counter-17")
    restarted = make_app(sqlite_url).test_client()
    response = restarted.post(f"{API}/counters/V17/call-next",
                              headers={"Authorization": f"Bearer {secret}"})
    assert_refused(response, 401, "unauthorized", "call-next")


def test_a_revoked_token_stops_working_when_its_cache_entry_expires(client, ctx, monkeypatch):
    headers = {"Authorization": f"Bearer {tokens.create_token(ctx, 'counter-17', 'staff')}"}
    assert client.get(f"{API}/tickets/1", headers=headers).status_code == 404  # cached: valid
    tokens.revoke_token(ctx, "counter-17")
    assert client.get(f"{API}/tickets/1", headers=headers).status_code == 404  # for <= 10 s
    later = time.monotonic() + tokens.CACHE_SECONDS + 1
    monkeypatch.setattr(tokens, "time", SimpleNamespace(monotonic=lambda: later))
    response = client.post(f"{API}/counters/V17/call-next", headers=headers)
    assert_refused(response, 401, "unauthorized", "call-next")


def test_a_token_revoked_before_its_first_use_is_refused_at_once(client, ctx):
    secret = tokens.create_token(ctx, "kiosk-2", "kiosk")
    tokens.revoke_token(ctx, "kiosk-2")
    response = client.post(f"{API}/tickets", json={"service": "ACTA"},
                           headers={"Authorization": f"Bearer {secret}",
                                    "Idempotency-Key": "revoked-kiosk-1"})
    assert_refused(response, 401, "unauthorized", "issue")
