"""Bad input is refused with a 4xx and a JSON {error: {code, message}} body; never a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.context import Turnos
from server.domain.tickets import Outcome, TicketStatus
from server.extensions import ext
from server.models import Ticket
from server.services import calling, issuing
from tests.conftest import Auth

API = "/api/v1"


def refusal(response, status: int) -> str:
    """Assert a JSON error body with this status; return its code."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert all(isinstance(v, str) and v for v in body["error"].values()), body
    return body["error"]["code"]


def issue(client, auth: Auth, body: Any):
    return client.post(f"{API}/tickets", json=body, headers=auth.issuing())


def ticket_in(ctx: Turnos, status: TicketStatus, counter: str = "V17") -> int:
    """A new ACTA ticket in `status`, at `counter` unless waiting; frees the counter first."""
    with ctx.db.read() as conn:
        held = conn.execute(select(Ticket.id).where(
            Ticket.counter_id == counter,
            Ticket.status.in_([TicketStatus.CALLED.value, TicketStatus.SERVING.value]),
        )).scalars().all()
    for ticket_id in held:
        calling.cancel(ctx, ticket_id, actor="test")
    ticket = issuing.issue_ticket(ctx, issuing.IssueRequest("ACTA"), caller="test",
                                  key=uuid.uuid4().hex).ticket
    steps = [
        (TicketStatus.CALLED, lambda: calling.call_number(ctx, counter, ticket.number,
                                                          actor="test")),
        (TicketStatus.SERVING, lambda: calling.start(ctx, ticket.id, actor="test")),
        (TicketStatus.COMPLETED, lambda: calling.complete(ctx, ticket.id, actor="test",
                                                          outcome=Outcome.RESOLVED)),
    ]
    for reached, step in steps:
        if status is TicketStatus.WAITING:
            break
        step()
        if status is reached:
            break
    return ticket.id


@pytest.fixture
def api(make_app: Callable[..., Flask], database_url: str):
    app = make_app(database_url)
    return app.test_client(), Auth(ext(app).ctx), ext(app).ctx


# --- issuing ----------------------------------------------------------------------------------

def test_an_unknown_service_is_not_found(client, auth):
    assert refusal(issue(client, auth, {"service": "NOPE"}), 404) == "unknown_service"


def test_preferential_attention_a_service_does_not_offer_is_refused(client, auth):
    response = issue(client, auth, {"service": "ESCRIT", "preferential": "senior"})
    assert refusal(response, 422) == "preferential_not_offered"


def test_a_bad_preferential_value_is_refused(client, auth):
    cases = [("vip", "invalid_preferential"), ("SENIOR", "invalid_preferential"),
             ("", "invalid_field"), (True, "invalid_field"), (1, "invalid_field"),
             (["senior"], "invalid_field"), ({"reason": "senior"}, "invalid_field")]
    for preferential, code in cases:
        response = issue(client, auth, {"service": "ACTA", "preferential": preferential})
        assert refusal(response, 422) == code, preferential


def test_a_service_that_is_not_a_service_code_is_refused(client, auth):
    cases = [(42, "invalid_field"), (4.2, "invalid_field"), (True, "invalid_field"),
             (["ACTA"], "invalid_field"), ({"code": "ACTA"}, "invalid_field"),
             ("  ", "invalid_field"), ("A" * 41, "invalid_field"), (None, "missing_field")]
    for service, code in cases:
        assert refusal(issue(client, auth, {"service": service}), 422) == code, service


def test_a_body_without_a_service_is_refused(client, auth):
    assert refusal(issue(client, auth, {}), 422) == "missing_field"


def test_a_body_that_is_not_a_json_object_is_refused(client, auth):
    for body in [b"[]", b'["ACTA"]', b'"ACTA"', b"42", b"null", b"true", b"{", b"NaN",
                 b"{'service': 'ACTA'}", b'{"service": "ACTA"', b"\xff\xfe"]:
        response = client.post(f"{API}/tickets", data=body, content_type="application/json",
                               headers=auth.issuing())
        assert refusal(response, 400) == "invalid_json", body


def test_a_body_that_is_not_sent_as_json_is_unsupported(client, auth):
    for content_type in ["text/plain", "application/x-www-form-urlencoded", "application/xml",
                         "multipart/form-data; boundary=x", None]:
        response = client.post(f"{API}/tickets", data='{"service": "ACTA"}',
                               content_type=content_type, headers=auth.issuing())
        assert refusal(response, 415) == "unsupported_media_type", content_type


def test_unknown_fields_are_refused_by_name(client, auth):
    response = issue(client, auth, {"service": "ACTA", "urgent": True, "name": "Ana"})
    assert refusal(response, 422) == "unknown_field"
    assert "name, urgent" in response.get_json()["error"]["message"]


def test_a_missing_or_malformed_idempotency_key_is_refused(client, auth):
    for key in [None, "", "short", "has spaces in it", "semi;colon-key", "x" * 101,
                "slash/in/the/key"]:
        headers = auth("kiosk") if key is None else auth("kiosk", **{"Idempotency-Key": key})
        response = client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=headers)
        assert refusal(response, 400) == "idempotency_key_required", key


# --- counters and tickets ---------------------------------------------------------------------

def test_a_transfer_without_a_target_is_refused(client, auth, ctx):
    ticket = ticket_in(ctx, TicketStatus.CALLED)
    for body in ({}, {"reason": "no sé a dónde"}, {"service": None, "counter": None}):
        response = client.post(f"{API}/tickets/{ticket}/transfer", json=body,
                               headers=auth("staff"))
        assert refusal(response, 422) == "no_target"


def test_an_unknown_counter_is_not_found(client, auth):
    for action, body in [("call-next", None), ("call", {"number": "A-1"})]:
        response = client.post(f"{API}/counters/V99/{action}", json=body,
                               headers=auth("staff"))
        assert refusal(response, 404) == "unknown_counter", action


def test_a_transfer_to_an_unknown_counter_or_service_is_not_found(client, auth, ctx):
    ticket = ticket_in(ctx, TicketStatus.CALLED)
    url = f"{API}/tickets/{ticket}/transfer"
    counter = client.post(url, json={"counter": "V99"}, headers=auth("staff"))
    assert refusal(counter, 404) == "unknown_counter"
    service = client.post(url, json={"service": "NOPE"}, headers=auth("staff"))
    assert refusal(service, 404) == "not_found"


def test_an_unknown_ticket_is_not_found(client, auth):
    for method, path in [("GET", ""), ("POST", "/recall"), ("POST", "/start"),
                         ("POST", "/complete"), ("POST", "/no-show"), ("POST", "/cancel"),
                         ("POST", "/transfer")]:
        body = {"service": "ACTA"} if path == "/transfer" else None
        response = client.open(f"{API}/tickets/4242{path}", method=method, json=body,
                               headers=auth("staff"))
        assert refusal(response, 404) == "not_found", path


def test_a_ticket_id_that_no_ticket_can_have_is_not_found(api):
    client, auth, _ = api
    for ticket_id in ["abc", "-1", "1.5", "1e3", "%20", str(2**31), str(2**63), str(10**30)]:
        for method, path in [("GET", ""), ("POST", "/start"), ("POST", "/cancel")]:
            response = client.open(f"{API}/tickets/{ticket_id}{path}", method=method,
                                   headers=auth("staff"))
            assert refusal(response, 404) == "not_found", ticket_id


@pytest.mark.parametrize(("status", "actions"), [
    (TicketStatus.WAITING, ["recall", "start", "complete", "no-show", "transfer"]),
    (TicketStatus.CALLED, ["complete"]),
    (TicketStatus.SERVING, ["recall", "start", "no-show"]),
    (TicketStatus.COMPLETED, ["recall", "start", "complete", "no-show", "cancel", "transfer"]),
])
def test_an_illegal_transition_is_a_conflict(client, auth, ctx, status, actions):
    ticket = ticket_in(ctx, status)
    for action in actions:
        body = {"service": "MATRI"} if action == "transfer" else None
        response = client.post(f"{API}/tickets/{ticket}/{action}", json=body,
                               headers=auth("staff"))
        assert refusal(response, 409) == "illegal_transition", action


def test_calling_a_ticket_that_is_not_waiting_is_a_conflict(client, auth, ctx):
    ticket = ticket_in(ctx, TicketStatus.COMPLETED)
    number = client.get(f"{API}/tickets/{ticket}", headers=auth("staff")).get_json()["number"]
    response = client.post(f"{API}/counters/V18/call", json={"number": number},
                           headers=auth("staff"))
    assert refusal(response, 409) == "illegal_transition"


def test_a_wrong_method_is_refused_as_json_naming_the_allowed_ones(client, auth):
    for method, path, allowed in [("PUT", "/tickets", "POST"), ("DELETE", "/tickets/1", "GET"),
                                  ("GET", "/counters/V17/call-next", "POST"),
                                  ("PATCH", "/tickets/1/complete", "POST"),
                                  ("POST", "/services", "GET")]:
        response = client.open(f"{API}{path}", method=method, headers=auth("staff"))
        assert refusal(response, 405) == "method_not_allowed", path
        assert allowed in response.headers["Allow"], path


def test_an_unknown_api_path_is_not_found_as_json(client):
    assert refusal(client.get(f"{API}/nothing-here"), 404) == "not_found"


@pytest.mark.parametrize(("action", "field"), [
    ("complete", "folio"), ("complete", "note"), ("cancel", "reason"), ("transfer", "reason"),
])
def test_text_that_cannot_be_stored_is_refused(api, action, field):
    client, auth, ctx = api
    ticket = ticket_in(ctx, TicketStatus.SERVING)
    target = ', "service": "MATRI"' if action == "transfer" else ""
    # NUL, lone surrogates and terminal escapes, as JSON escapes.
    for value in ["RC\\u0000-1", "\\ud800", "x\\udfff", "\\u001b[31m"]:
        response = client.post(f"{API}/tickets/{ticket}/{action}",
                               data=f'{{"{field}": "{value}"{target}}}',
                               content_type="application/json", headers=auth("staff"))
        assert refusal(response, 422) == "invalid_field", value
    stored = client.get(f"{API}/tickets/{ticket}", headers=auth("staff")).get_json()
    assert stored["status"] == "serving"


def test_notes_may_span_lines(client, auth, ctx):
    ticket = ticket_in(ctx, TicketStatus.SERVING)
    response = client.post(f"{API}/tickets/{ticket}/complete", headers=auth("staff"),
                           json={"note": "Faltó el acta.\r\n\tVuelve el lunes."})
    assert response.status_code == 200


# --- arbitrary bodies -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def fields(**likely: list[Any] | st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    """JSON objects with some of the route's fields: likely values, or likely mixed with any.

    The likely values let examples past validation to the services and the database, where
    the 500s hide; the mixed ones probe validation itself.
    """
    def objects(mixed: bool) -> st.SearchStrategy[bytes]:
        optional = {}
        for name, values in likely.items():
            value = values if isinstance(values, st.SearchStrategy) else st.sampled_from(values)
            optional[name] = value | json_values if mixed else value
        return st.fixed_dictionaries({}, optional=optional).map(lambda v: json.dumps(v).encode())

    return objects(mixed=False) | objects(mixed=True)


# Free text: plausible, or with the NUL, control characters and lone surrogates JSON can carry.
TEXT = st.one_of(
    st.sampled_from(["ok", "se retiró", "Folio RC-2026-1\nrevisar", "RC\x00-1", "\ud800"]),
    st.text(st.characters() | st.characters(categories=["Cc", "Cs"]), min_size=1, max_size=8),
)

W, C, S, D = (TicketStatus.WAITING, TicketStatus.CALLED, TicketStatus.SERVING,
              TicketStatus.COMPLETED)
# Each POST route: bodies to try, and the state of the ticket that most bodies should meet.
ROUTES = {
    "/tickets": (fields(service=["ACTA", "ESCRIT", "MATRI", "NOPE", ""],
                        preferential=["senior", "pregnancy", "disability", "vip", True, False]),
                 W),
    "/counters/V17/call-next": (fields(), W),
    "/counters/V17/call": (fields(number=["A-001", "a1", "A 2", "A-0", "Z-999", "ZZ-1",
                                          "A-9999999", "٤٢", "A-٤٢"]), W),
    "/tickets/{ticket}/recall": (fields(), C),
    "/tickets/{ticket}/start": (fields(), C),
    "/tickets/{ticket}/complete": (fields(outcome=[o.value for o in Outcome] + ["maybe"],
                                          folio=TEXT, note=TEXT), S),
    "/tickets/{ticket}/no-show": (fields(), C),
    "/tickets/{ticket}/cancel": (fields(reason=TEXT), S),
    "/tickets/{ticket}/transfer": (fields(service=["MATRI", "ACTA", "NOPE"],
                                          counter=["V17", "V19", "V21", "V99"],
                                          placement=["front", "original_time", "back"],
                                          reason=TEXT), C),
}
# Any JSON at all, or bytes that are not JSON.
anything = json_values.map(lambda v: json.dumps(v).encode()) | st.binary(max_size=30)


@pytest.mark.parametrize("route", list(ROUTES))
def test_no_body_posted_to_a_route_yields_a_server_error(api, route):
    client, auth, ctx = api
    route_bodies, usual = ROUTES[route]

    @settings(max_examples=50, deadline=None)
    @given(body=route_bodies | anything, status=st.just(usual) | st.sampled_from([W, C, S, D]))
    def post(body: bytes, status: TicketStatus) -> None:
        ticket = ticket_in(ctx, status)
        headers = auth.issuing("staff") if route == "/tickets" else auth("staff")
        response = client.post(f"{API}{route.format(ticket=ticket)}", data=body,
                               content_type="application/json", headers=headers)
        assert response.status_code < 500, response.get_data(as_text=True)
        if response.status_code >= 400:
            refusal(response, response.status_code)
        elif response.status_code != 204:
            assert response.is_json and "id" in response.get_json()

    post()
