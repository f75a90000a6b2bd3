"""The OpenAPI document: valid, complete against the URL map, and true to real responses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from openapi_spec_validator import validate

from server.extensions import ext
from tests.conftest import Auth
from tests.support.openapi_contract import (
    API,
    HTTP_METHODS,
    Contract,
    documented_routes,
    pointer,
    served_routes,
)


@pytest.fixture
def api(make_app: Callable[..., Flask], database_url: str):
    app = make_app(database_url)
    client = app.test_client()
    spec = client.get(f"{API}/openapi.json").get_json()
    return client, Auth(ext(app).ctx), Contract(app, spec)


@pytest.fixture
def spec(client) -> dict[str, Any]:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    return response.get_json()


# --- the document itself ----------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_1(spec):
    validate(spec)
    assert spec["openapi"] == "3.1.0"


def test_every_api_route_in_the_url_map_is_documented(app, spec):
    undocumented = served_routes(app) - documented_routes(spec).keys()
    assert not undocumented, f"document these routes in server/api/openapi.py: {undocumented}"


def test_every_documented_route_is_served(app, spec):
    unserved = documented_routes(spec).keys() - served_routes(app)
    assert not unserved, f"the document describes routes the app lacks: {unserved}"


def test_every_operation_that_needs_a_token_documents_the_401(spec):
    for path, item in spec["paths"].items():
        for method in item.keys() & HTTP_METHODS:
            operation = item[method]
            secured = operation.get("security", spec["security"]) != []
            assert ("401" in operation["responses"]) == secured, f"{method} {path}"


def test_the_contract_notices_a_ticket_that_drifted(app, spec):
    contract = Contract(app, spec)
    ticket = pointer("components", "schemas", "Ticket")
    good = {
        "id": 1, "number": "A-001", "service": "ACTA", "service_name": "Acta",
        "agency": "rc", "status": "waiting", "preferential": True,
        "preferential_reason": "senior", "issued_at": "2026-11-23T16:00:00Z",
        "called_at": None, "started_at": None, "finished_at": None, "counter": None,
        "counter_name": None, "target_counter": None, "recall_count": 0, "outcome": None,
        "folio": None, "position": 1, "follow_url": "http://127.0.0.1:8000/t/x",
    }
    assert contract.problems(good, ticket) == []
    drifts = [
        {**good, "note": "an extra field"},
        {k: v for k, v in good.items() if k != "folio"},
        {**good, "status": "paused"},
        {**good, "outcome": "maybe"},
        {**good, "preferential_reason": "vip"},
        {**good, "called_at": "yesterday"},
        {**good, "position": "1"},
        {**good, "service": None},
    ]
    for drifted in drifts:
        assert contract.problems(drifted, ticket), drifted


# --- real responses against the document ------------------------------------------------------

def test_issuing_and_reading_tickets_answer_as_documented(api):
    client, auth, expect = api
    headers = auth.issuing()
    first = expect(client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=headers), 201)
    again = expect(client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=headers), 201)
    senior = expect(client.post(f"{API}/tickets", json={"service": "ACTA",
                                "preferential": "senior"}, headers=auth.issuing()), 201)
    expect(client.post(f"{API}/tickets", json={"service": "ESCRIT", "preferential": False},
                       headers=auth.issuing("staff")), 201)
    expect(client.get(f"{API}/tickets/{first['id']}", headers=auth("display")), 200)
    assert again["id"] == first["id"]
    assert (senior["preferential_reason"], senior["position"]) == ("senior", 1)


def test_counter_actions_answer_as_documented(api):
    client, auth, expect = api
    staff = auth("staff")
    issued = [expect(client.post(f"{API}/tickets", json=body, headers=auth.issuing()), 201)
              for body in ({"service": "ACTA"}, {"service": "ACTA", "preferential": "pregnancy"},
                           {"service": "ACTA"})]
    regular, _, third = issued

    called = expect(client.post(f"{API}/counters/V17/call-next", headers=staff), 200)
    expect(client.post(f"{API}/tickets/{called['id']}/recall", headers=staff), 200)
    expect(client.post(f"{API}/tickets/{called['id']}/start", json={}, headers=staff), 200)
    done = expect(client.post(f"{API}/tickets/{called['id']}/complete", headers=staff,
                              json={"outcome": "follow_up", "folio": "RC-2026-1"}), 200)

    expect(client.post(f"{API}/counters/V17/call", json={"number": regular["number"]},
                       headers=staff), 200)
    for _ in range(ext(client.application).ctx.config.rules.no_show_after_recalls):
        expect(client.post(f"{API}/tickets/{regular['id']}/recall", headers=staff), 200)
    gone = expect(client.post(f"{API}/tickets/{regular['id']}/no-show", headers=staff), 200)

    expect(client.post(f"{API}/counters/V18/call", json={"number": "a3"}, headers=staff), 200)
    moved = expect(client.post(f"{API}/tickets/{third['id']}/transfer", headers=staff,
                               json={"service": "MATRI", "reason": "trae otro trámite"}), 200)
    expect(client.post(f"{API}/counters/V21/call-next", headers=staff), 200)
    sent = expect(client.post(f"{API}/tickets/{third['id']}/transfer", headers=staff,
                              json={"counter": "V19", "placement": "original_time"}), 200)
    expect(client.post(f"{API}/counters/V19/call-next", headers=staff), 200)
    cancelled = expect(client.post(f"{API}/tickets/{third['id']}/cancel", headers=staff,
                                   json={"reason": "se retiró"}), 200)
    expect(client.post(f"{API}/counters/V17/call-next", headers=staff), 204)

    assert (done["outcome"], done["folio"], gone["status"]) == ("follow_up", "RC-2026-1",
                                                                 "no_show")
    assert (moved["service"], sent["target_counter"], cancelled["status"]) == (
        "MATRI", "V19", "cancelled")


def test_the_catalog_and_the_health_check_answer_as_documented(api):
    client, auth, expect = api
    expect(client.post(f"{API}/tickets", json={"service": "CSF", "preferential": "disability"},
                       headers=auth.issuing()), 201)
    expect(client.post(f"{API}/counters/V17/call-next", headers=auth("staff")), 204)
    expect(client.get(f"{API}/services"), 200)
    expect(client.get(f"{API}/counters", headers=auth("display")), 200)
    queues = expect(client.get(f"{API}/queues"), 200)
    expect(client.get(f"{API}/openapi.json"), 200)
    expect(client.get("/healthz"), 200)
    waiting = {q["service"]: q for q in queues["queues"]}["CSF"]
    assert (waiting["waiting"], waiting["oldest_wait_seconds"]) == (1, 0)


def test_refusals_answer_as_documented(api):
    client, auth, expect = api
    staff, tickets = auth("staff"), f"{API}/tickets"
    waiting = expect(client.post(tickets, json={"service": "ACTA"}, headers=auth.issuing()), 201)
    at_counter = expect(client.post(tickets, json={"service": "ACTA"},
                                    headers=auth.issuing()), 201)

    expect(client.post(tickets, json={"service": "ACTA"}, headers=auth("kiosk")), 400)
    expect(client.post(tickets, data="{", content_type="application/json",
                       headers=auth.issuing()), 400)
    expect(client.post(tickets, json={"service": "ACTA"}), 401)
    expect(client.get(f"{tickets}/{waiting['id']}"), 401)
    expect(client.post(tickets, json={"service": "ACTA"}, headers=auth.issuing("display")), 403)
    expect(client.post(f"{API}/counters/V17/call-next", headers=auth("kiosk")), 403)
    expect(client.post(f"{API}/counters/V01/call", json={"number": waiting["number"]},
                       headers=staff), 403)
    expect(client.post(tickets, json={"service": "NOPE"}, headers=auth.issuing()), 404)
    expect(client.get(f"{tickets}/999", headers=staff), 404)
    expect(client.get(f"{tickets}/{2**31}", headers=staff), 404)
    expect(client.get(f"{tickets}/abc", headers=staff), 404)
    expect(client.post(f"{API}/counters/NOPE/call-next", headers=staff), 404)
    expect(client.post(f"{API}/tickets/{waiting['id']}/transfer", json={"counter": "NOPE"},
                       headers=staff), 404)
    expect(client.post(f"{tickets}/{waiting['id']}/start", headers=staff), 409)
    expect(client.post(f"{API}/counters/V17/call", json={"number": at_counter["number"]},
                       headers=staff), 200)
    expect(client.post(f"{API}/counters/V17/call-next", headers=staff), 409)
    expect(client.post(f"{tickets}/{at_counter['id']}/no-show", headers=staff), 409)
    expect(client.post(tickets, data="service=ACTA", headers=auth.issuing(),
                       content_type="application/x-www-form-urlencoded"), 415)
    expect(client.post(tickets, json={"service": "ACTA", "urgent": True},
                       headers=auth.issuing()), 422)
    expect(client.post(tickets, json={"service": "ESCRIT", "preferential": "senior"},
                       headers=auth.issuing()), 422)
    expect(client.post(f"{API}/counters/V17/call", json={"number": "42"}, headers=staff), 422)
    expect(client.post(f"{tickets}/{at_counter['id']}/transfer", json={}, headers=staff), 422)
    expect(client.post(f"{tickets}/{at_counter['id']}/complete", json={"outcome": "meh"},
                       headers=staff), 422)
