"""Issuing and handling tickets through the HTTP API, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask

from server.extensions import ext
from tests.conftest import Auth


@pytest.fixture
def api(make_app: Callable[..., Flask], database_url: str):
    app = make_app(database_url)
    return app.test_client(), Auth(ext(app).ctx)


def test_an_issued_ticket_gets_the_first_number_of_its_service(api):
    client, auth = api
    response = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    assert response.status_code == 201
    body = response.get_json()
    assert body["number"] == "A-001"
    assert body["status"] == "waiting"
    assert body["position"] == 1
    assert body["follow_url"].startswith("http://127.0.0.1:8000/t/")


def test_the_same_idempotency_key_returns_the_same_ticket(api):
    client, auth = api
    headers = auth.issuing()
    first = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=headers)
    again = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=headers)
    assert again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    other = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    assert other.get_json()["number"] == "A-002"


def test_racing_requests_with_one_key_get_one_ticket_and_burn_no_number(api):
    client, auth = api
    headers = auth.issuing()
    start = threading.Barrier(12)
    answers: list[tuple[int, int]] = []

    def tap() -> None:
        start.wait()
        response = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=headers)
        answers.append((response.status_code, response.get_json()["id"]))

    taps = [threading.Thread(target=tap) for _ in range(12)]
    for thread in taps:
        thread.start()
    for thread in taps:
        thread.join(30)
    assert len(answers) == 12
    assert {status for status, _ in answers} == {201}
    assert len({ticket_id for _, ticket_id in answers}) == 1
    other = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    assert other.get_json()["number"] == "A-002"


def test_the_same_key_with_another_body_is_refused(api):
    client, auth = api
    headers = auth.issuing()
    client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=headers)
    response = client.post("/api/v1/tickets", json={"service": "MATRI"}, headers=headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "idempotency_key_reused"


def test_a_counter_calls_serves_and_completes_a_ticket(api):
    client, auth = api
    issued = client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    ticket_id = issued.get_json()["id"]
    called = client.post("/api/v1/counters/V17/call-next", headers=auth("staff"))
    assert called.status_code == 200
    assert called.get_json()["id"] == ticket_id
    assert called.get_json()["counter"] == "V17"
    for action, status in [("recall", "called"), ("start", "serving")]:
        response = client.post(f"/api/v1/tickets/{ticket_id}/{action}", headers=auth("staff"))
        assert response.get_json()["status"] == status
    done = client.post(f"/api/v1/tickets/{ticket_id}/complete",
                       json={"outcome": "follow_up", "folio": "RC-2026-1"}, headers=auth("staff"))
    assert done.get_json()["status"] == "completed"
    assert done.get_json()["outcome"] == "follow_up"
    assert client.post("/api/v1/counters/V17/call-next", headers=auth("staff")).status_code == 204
