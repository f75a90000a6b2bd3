"""Opening, pausing and closing counters, and a counter's day, through the API."""

from __future__ import annotations

from flask import Flask

from server.extensions import ext
from tests.conftest import Auth
from tests.support.openapi_contract import API, Contract


def _expect(app: Flask):
    from server.api.openapi import document

    return Contract(app, document())


def test_a_paused_counter_calls_nobody_until_it_opens_again(app: Flask, client, auth: Auth):
    expect = _expect(app)
    staff = auth("staff")
    expect(client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=auth.issuing()), 201)
    paused = expect(client.post(f"{API}/counters/V17/pause", json={"reason": "comida"},
                                headers=staff), 200)
    assert paused["state"] == "paused"
    refused = expect(client.post(f"{API}/counters/V17/call-next", headers=staff), 409)
    assert refused["error"]["code"] == "counter_closed"
    expect(client.post(f"{API}/counters/V17/open", headers=staff), 200)
    expect(client.post(f"{API}/counters/V17/call-next", headers=staff), 200)


def test_closing_every_counter_of_a_service_closes_it_at_the_kiosk(app: Flask, client,
                                                                   auth: Auth, ctx):
    from server.services import board

    staff = auth("staff")
    for counter in ctx.config.counters:
        if "PASAPORTE" in counter.services:
            client.post(f"{API}/counters/{counter.id}/close", headers=staff)
    entry = next(b for b in board.service_board(ctx) if b.service == "PASAPORTE")
    assert entry.open_counters == 0
    assert entry.availability.open is False
    assert entry.estimated_wait_minutes is None


def test_a_counter_change_is_pushed_to_the_zone_that_shows_it(app: Flask, auth: Auth, ctx):
    hub = ext(app).hub
    screen = ext(app).socketio.test_client(app, auth={"token": auth.secret("display")})
    screen.emit("subscribe", {"rooms": ["zone:planta-alta"]}, callback=True)
    app.test_client().post(f"{API}/counters/V17/pause", headers=auth("staff"))
    hub.pump()
    events = [m for m in screen.get_received() if m["name"].startswith("counter.")]
    assert [(m["name"], m["args"][0]["counter"]["id"]) for m in events] == [
        ("counter.paused", "V17")
    ]


def test_the_counters_day_counts_served_and_no_shows(app: Flask, client, auth: Auth, clock):
    expect = _expect(app)
    staff = auth("staff")
    for _ in range(3):
        client.post(f"{API}/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    for minutes in (4, 6):
        ticket = client.post(f"{API}/counters/V17/call-next", headers=staff).get_json()
        client.post(f"{API}/tickets/{ticket['id']}/start", headers=staff)
        clock.advance(minutes=minutes)
        client.post(f"{API}/tickets/{ticket['id']}/complete", headers=staff)
    ticket = client.post(f"{API}/counters/V17/call-next", headers=staff).get_json()
    client.post(f"{API}/tickets/{ticket['id']}/recall", headers=staff)
    client.post(f"{API}/tickets/{ticket['id']}/no-show", headers=staff)
    day = expect(client.get(f"{API}/counters/V17/day", headers=staff), 200)
    assert day == {"counter": "V17", "served": 2, "no_shows": 1,
                   "average_service_seconds": 300}


def test_an_unknown_counter_is_a_404(app: Flask, client, auth: Auth):
    expect = _expect(app)
    response = expect(client.post(f"{API}/counters/NOPE/pause", headers=auth("staff")), 404)
    assert response["error"]["code"] == "unknown_counter"
