"""The direct API path (server/api/direct.py) answers exactly as Flask does, and only when plain.

Most tests run the same requests on two twin apps built alike (same config, same frozen clock,
fresh databases): plainly on one, so that the direct path serves them, and with a harmless
query string on the other, which makes the middleware step aside for Flask. Flask's
`request_started` signal tells which requests reached Flask at all, so that a comparison
cannot pass because both sides were in fact served by Flask.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, request, request_started
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.auth.headers import HEADERS, HSTS
from server.extensions import ext
from tests.conftest import Auth

API = "/api/v1"
# Ticket follow links end in a random token; nothing else differs between the twins.
FOLLOW_TOKEN = re.compile(rb"/t/[A-Za-z0-9_-]+")


@contextmanager
def flask_requests(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests that reach Flask's own request handling on `app`."""
    paths: list[str] = []

    def seen(sender: Flask, **extra: Any) -> None:
        paths.append(request.path)

    with request_started.connected_to(seen, app):
        yield paths


class Side:
    """One of the twin apps and how requests are sent to it: plainly or through Flask."""

    def __init__(self, app: Flask, query: str, reached_flask: list[str]) -> None:
        self.client = app.test_client()
        self.auth = Auth(ext(app).ctx)
        self.query = query
        self.reached_flask = reached_flask
        self.answers: list[TestResponse] = []

    def post(self, path: str, **kwargs: Any) -> TestResponse:
        """POST to `API + path` (with this side's query string) and keep the answer."""
        response = self.client.post(API + path + self.query, **kwargs)
        self.answers.append(response)
        return response


Twins = tuple[Side, Side]
Scenario = Callable[[Side], object]


@pytest.fixture
def twins(make_app: Callable[..., Flask], tmp_path: Path) -> Iterator[Twins]:
    """Two apps alike: the first is sent plain requests, the second the same ones via Flask."""
    direct_app = make_app(f"sqlite:///{tmp_path / 'direct.sqlite'}")
    flask_app = make_app(f"sqlite:///{tmp_path / 'flask.sqlite'}")
    with flask_requests(direct_app) as direct_seen, flask_requests(flask_app) as flask_seen:
        yield Side(direct_app, "", direct_seen), Side(flask_app, "?via=flask", flask_seen)


@pytest.fixture
def reached_flask(app: Flask) -> Iterator[list[str]]:
    """The paths of the requests to the `app` fixture that Flask handled."""
    with flask_requests(app) as paths:
        yield paths


def compared(response: TestResponse) -> tuple[Any, ...]:
    """What a client can tell of an answer, but the follow token and a 204's framing headers.

    The framing headers of an empty answer differ (see
    test_an_empty_answer_carries_the_headers_flask_gives_it), as does the case of the status
    line's reason phrase (test_the_status_line_reads_as_flasks).
    """
    headers = sorted(response.headers.items())
    if response.status_code == 204:
        headers = [(k, v) for k, v in headers if k not in ("Content-Type", "Content-Length")]
    return (response.status_code, response.status.casefold(), headers,
            FOLLOW_TOKEN.sub(b"/t/<token>", response.data))


def same_answers(twins: Twins, scenario: Scenario) -> list[TestResponse]:
    """Run `scenario` on both twins; assert the direct path answered it all, as Flask did."""
    direct, flask = twins
    scenario(direct)
    scenario(flask)
    assert direct.reached_flask == [], "the plain requests should not have reached Flask"
    assert len(flask.reached_flask) == len(flask.answers)
    assert len(direct.answers) == len(flask.answers)
    for plain, routed, path in zip(direct.answers, flask.answers, flask.reached_flask,
                                   strict=True):
        assert compared(plain) == compared(routed), path
    return direct.answers


def error_code(response: TestResponse) -> str:
    """The code of a JSON error answer."""
    assert response.mimetype == "application/json", response.data
    return response.get_json()["error"]["code"]


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": uuid.uuid4().hex}


# --- issuing ----------------------------------------------------------------------------------

def test_issued_tickets_are_answered_as_flask_answers_them(twins):
    def scenario(side: Side) -> None:
        issuer = side.auth("kiosk")
        for body in [{"service": "ACTA"}, {"service": "ACTA", "preferential": "senior"},
                     {"service": "ACTA", "preferential": False}, {"service": "MATRI"}]:
            side.post("/tickets", json=body, headers={**issuer, **key()})
        side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing("staff"))

    answers = same_answers(twins, scenario)
    assert [a.status_code for a in answers] == [201] * 5
    assert [a.get_json()["position"] for a in answers] == [1, 1, 3, 1, 4]
    assert answers[1].get_json()["preferential"] is True


def test_the_same_idempotency_key_gets_the_same_ticket_and_another_body_a_refusal(twins):
    def scenario(side: Side) -> None:
        headers = side.auth.issuing()
        side.post("/tickets", json={"service": "ACTA"}, headers=headers)
        side.post("/tickets", json={"service": "ACTA"}, headers=headers)
        side.post("/tickets", json={"service": "MATRI"}, headers=headers)

    first, again, other = same_answers(twins, scenario)
    assert again.status_code == 201 and again.get_json()["id"] == first.get_json()["id"]
    assert (other.status_code, error_code(other)) == (422, "idempotency_key_reused")


# What goes wrong, which Idempotency-Key goes with it, what is sent, and Flask's refusal.
MISTAKES: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("no idempotency key", "none", {"json": {"service": "ACTA"}},
     400, "idempotency_key_required"),
    ("a short idempotency key", "short", {"json": {"service": "ACTA"}},
     400, "idempotency_key_required"),
    ("invalid JSON", "fresh", {"data": b'{"service": ', "content_type": "application/json"},
     400, "invalid_json"),
    ("bytes that are not UTF-8", "fresh",
     {"data": b"\xff\xfe", "content_type": "application/json"}, 400, "invalid_json"),
    ("a JSON array", "fresh", {"json": ["ACTA"]}, 400, "invalid_json"),
    ("an unknown field", "fresh", {"json": {"service": "ACTA", "urgent": True, "name": "Ana"}},
     422, "unknown_field"),
    ("a text/plain body", "fresh", {"data": '{"service": "ACTA"}', "content_type": "text/plain"},
     415, "unsupported_media_type"),
    ("no service", "fresh", {"json": {}}, 422, "missing_field"),
    ("an empty text/plain body", "fresh", {"data": b"", "content_type": "text/plain"},
     422, "missing_field"),
    ("a service that is not text", "fresh", {"json": {"service": 42}}, 422, "invalid_field"),
    ("an unknown service", "fresh", {"json": {"service": "NOPE"}}, 404, "unknown_service"),
    ("an unknown preferential reason", "fresh",
     {"json": {"service": "ACTA", "preferential": "vip"}}, 422, "invalid_preferential"),
]


def test_every_mistake_in_issuing_is_refused_as_flask_refuses_it(twins):
    def scenario(side: Side) -> None:
        for _, kind, sent, _, _ in MISTAKES:
            headers = {"none": {}, "short": {"Idempotency-Key": "short"}, "fresh": key()}[kind]
            side.post("/tickets", headers={**side.auth("kiosk"), **headers}, **sent)

    answers = same_answers(twins, scenario)
    for (mistake, _, _, status, code), answer in zip(MISTAKES, answers, strict=True):
        assert (answer.status_code, error_code(answer)) == (status, code), mistake


def test_json_content_types_are_recognised_as_flask_recognises_them(twins):
    def scenario(side: Side) -> None:
        for content_type in ["application/json; charset=utf-8", "APPLICATION/JSON",
                             "application/merge-patch+json", " application/json ;x=1",
                             "application/jsonx", "text/json"]:
            side.post("/tickets", data='{"service": "ACTA"}', content_type=content_type,
                      headers=side.auth.issuing())

    answers = same_answers(twins, scenario)
    assert [a.status_code for a in answers] == [201, 201, 201, 201, 415, 415]


def test_the_bearer_scheme_is_read_as_flask_reads_it(twins):
    def scenario(side: Side) -> None:
        secret = side.auth.secret("kiosk")
        for authorization in [f"bearer {secret}", f"BEARER {secret}", f"Bearer   {secret}  "]:
            side.post("/tickets", json={"service": "ACTA"},
                      headers={"Authorization": authorization, **key()})

    assert [a.status_code for a in same_answers(twins, scenario)] == [201, 201, 201]


# --- calling the next ticket ------------------------------------------------------------------

def test_call_next_answers_a_ticket_then_an_empty_204_as_flask_does(twins):
    def scenario(side: Side) -> None:
        side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing())
        side.post("/counters/V18/call-next", headers=side.auth("staff"))
        side.post("/counters/V17/call-next", json={}, headers=side.auth("admin"))
        side.post("/counters/V18/call-next", headers=side.auth("staff"))

    _, called, nothing, busy = same_answers(twins, scenario)
    assert called.status_code == 200 and called.get_json()["counter"] == "V18"
    assert nothing.status_code == 204 and nothing.data == b""
    assert (busy.status_code, error_code(busy)) == (409, "counter_busy")


def test_call_next_refuses_bad_requests_as_flask_does(twins):
    def scenario(side: Side) -> None:
        staff = side.auth("staff")
        side.post("/counters/V99/call-next", headers=staff)
        side.post("/counters/V17/call-next", json={"service": "ACTA"}, headers=staff)
        side.post("/counters/V17/call-next", data="now", content_type="text/plain",
                  headers=staff)

    answers = same_answers(twins, scenario)
    assert [(a.status_code, error_code(a)) for a in answers] == [
        (404, "unknown_counter"), (422, "unknown_field"), (415, "unsupported_media_type")]


@pytest.mark.parametrize(("role", "path"), [
    ("kiosk", "/counters/V17/call-next"), ("kiosk", "/tickets/1/start"),
    ("display", "/tickets"), ("display", "/counters/V17/call-next"),
])
def test_a_role_that_may_not_call_is_refused_by_flask(client, auth, reached_flask, role, path):
    response = client.post(API + path, json={"service": "ACTA"},
                           headers=auth(role, **key()))
    assert (response.status_code, error_code(response)) == (403, "forbidden")
    assert reached_flask == [API + path]


@pytest.mark.parametrize("authorization", [None, "Bearer tk_not-a-token", "Bearer ",
                                           "Basic dXNlcjpwYXNz", "tk_no-scheme"])
def test_a_missing_or_bad_token_is_refused_by_flask(client, reached_flask, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    response = client.post(f"{API}/counters/V17/call-next", headers=headers)
    assert (response.status_code, error_code(response)) == (401, "unauthorized")
    assert reached_flask == [f"{API}/counters/V17/call-next"]


# --- ticket actions ---------------------------------------------------------------------------

def test_ticket_actions_are_answered_as_flask_answers_them(twins):
    def scenario(side: Side) -> None:
        staff = side.auth("staff")
        for _ in range(4):
            side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing())
        side.post("/tickets/2/complete", headers=staff)  # still waiting
        side.post("/counters/V17/call-next", headers=staff)  # 1
        for action, body in [("recall", None), ("start", None), ("recall", None),
                             ("complete", {"outcome": "maybe"}),
                             ("complete", {"outcome": "follow_up", "folio": "RC-2026-1"}),
                             ("cancel", None)]:
            side.post(f"/tickets/1/{action}", json=body, headers=staff)
        side.post("/counters/V17/call-next", headers=staff)  # 2
        for action in ["no-show", "recall", "no-show"]:
            side.post(f"/tickets/2/{action}", headers=staff)
        side.post("/counters/V17/call-next", headers=staff)  # 3
        side.post("/tickets/3/transfer", json={}, headers=staff)
        side.post("/tickets/3/transfer", json={"counter": "V99"}, headers=staff)
        side.post("/tickets/3/transfer", json={"service": "MATRI", "placement": "front",
                                               "reason": "matrimonio"}, headers=staff)
        side.post("/tickets/4/cancel", json={"reason": "se retiró"}, headers=staff)
        side.post("/tickets/4242/start", headers=staff)
        side.post(f"/tickets/{2**31 - 1}/recall", headers=staff)

    answers = same_answers(twins, scenario)[4:]
    outcomes = [a.status_code if a.status_code < 400 else (a.status_code, error_code(a))
                for a in answers]
    assert outcomes == [
        (409, "illegal_transition"), 200,
        200, 200, (409, "illegal_transition"), (422, "invalid_field"), 200,
        (409, "illegal_transition"), 200,
        (409, "no_show_too_early"), 200, 200, 200,
        (422, "no_target"), (404, "unknown_counter"), 200, 200,
        (404, "not_found"), (404, "not_found"),
    ]
    assert answers[-4].get_json()["service"] == "MATRI"


@pytest.mark.parametrize("ticket_id", ["99999999999", str(2**31), "0123", "00", "01"])
def test_a_ticket_id_no_ticket_can_have_is_not_found_by_flask(client, auth, reached_flask,
                                                               ticket_id):
    path = f"{API}/tickets/{ticket_id}/start"
    response = client.post(path, headers=auth("staff"))
    assert (response.status_code, error_code(response)) == (404, "not_found")
    assert reached_flask == [path]


# --- what the middleware leaves to Flask ------------------------------------------------------

@pytest.mark.parametrize("variant", ["cookie", "query string", "chunked body", "body over 64 KiB"])
def test_a_request_that_is_not_plain_goes_to_flask(app, auth, reached_flask, variant):
    client: FlaskClient = app.test_client()
    path, body, status = f"{API}/tickets", {"service": "ACTA"}, 201
    headers, environ = auth.issuing(), {}
    if variant == "cookie":
        client.set_cookie("theme", "dark")
    elif variant == "query string":
        path += "?via=flask"
    elif variant == "chunked body":
        headers["Transfer-Encoding"] = "chunked"
        # As gunicorn marks a chunked body it has already de-chunked.
        environ["wsgi.input_terminated"] = True
    else:
        body["note"], status = "x" * (64 * 1024), 422
    response = client.post(path, json=body, headers=headers, environ_base=environ)
    assert response.status_code == status, response.data
    assert reached_flask == [f"{API}/tickets"]


def test_a_plain_request_does_not_reach_flask(client, auth, reached_flask):
    response = client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    assert response.status_code == 201
    assert reached_flask == []


# --- failures and headers ---------------------------------------------------------------------

def test_an_unexpected_error_is_a_logged_json_500_as_on_flask(twins, monkeypatch, caplog):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr("server.services.issuing.issue_ticket", broken)

    def scenario(side: Side) -> None:
        side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing())

    with caplog.at_level(logging.ERROR):
        [answer] = same_answers(twins, scenario)
    assert (answer.status_code, error_code(answer)) == (500, "internal_error")
    logged = [(r.name, r.getMessage(), r.exc_info[1] if r.exc_info else None)
              for r in caplog.records]
    assert [(name, message) for name, message, _ in logged] == [
        ("server.api.direct", "unhandled error on POST /api/v1/tickets"),
        ("server.api.errors", "unhandled error on POST /api/v1/tickets"),
    ]
    assert all(isinstance(error, RuntimeError) for _, _, error in logged)


def test_an_https_answer_carries_hsts_as_flasks_does(twins):
    def scenario(side: Side) -> None:
        https = {"base_url": "https://localhost"}
        side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing(), **https)
        side.post("/counters/V17/call-next", headers=side.auth("staff"), **https)
        side.post("/counters/V18/call-next", headers=side.auth("staff"), **https)
        side.post("/counters/V99/call-next", headers=side.auth("staff"), **https)
        side.post("/counters/V19/call-next", headers=side.auth("staff"))

    answers = same_answers(twins, scenario)
    assert [a.headers.get("Strict-Transport-Security") for a in answers] == [HSTS] * 4 + [None]
    assert all(a.headers[name] == value for a in answers for name, value in HEADERS.items())


def test_an_empty_answer_carries_the_headers_flask_gives_it(twins):
    def scenario(side: Side) -> None:
        side.post("/counters/V17/call-next", headers=side.auth("staff"))

    direct, flask = twins
    same_answers(twins, scenario)
    assert sorted(direct.answers[0].headers.items()) == sorted(flask.answers[0].headers.items())


def test_the_status_line_reads_as_flasks(twins):
    def scenario(side: Side) -> None:
        side.post("/tickets", json={"service": "ACTA"}, headers=side.auth.issuing())

    direct, flask = twins
    same_answers(twins, scenario)
    assert direct.answers[0].status == flask.answers[0].status
