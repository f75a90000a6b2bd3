"""The hub: seq order, rooms, replay, snapshots and who may listen to what."""

from __future__ import annotations

import dataclasses
import time

import pytest
from flask import Flask

from server import realtime
from server.extensions import ext
from server.services import calling, issuing
from tests.conftest import Auth


def _socket(app: Flask, token: str | None = None, **kwargs):
    return ext(app).socketio.test_client(app, auth={"token": token} if token else None, **kwargs)


def _ticket_events(client) -> list[tuple[str, int]]:
    return [(m["name"], m["args"][0]["seq"]) for m in client.get_received()
            if m["name"].startswith("ticket.")]


def _issue(ctx, service: str = "ACTA", key: str = "key-0000"):
    return issuing.issue_ticket(ctx, issuing.IssueRequest(service), caller="t", key=key).ticket


def test_events_that_overtake_an_earlier_one_wait_for_it(app: Flask, ctx):
    hub = ext(app).hub
    screen = _socket(app)
    assert screen.emit("subscribe", {"rooms": ["csa"]}, callback=True)["ok"]
    _issue(ctx, key="key-0001")
    _issue(ctx, key="key-0002")
    # Take the two committed events out of the inbox and hand them over in the wrong order.
    first, second = hub._inbox.get_nowait()[0], hub._inbox.get_nowait()[0]
    hub._last_poll = time.monotonic()  # the log poll would find the gap on its own
    hub.publish([second])
    hub.pump()
    assert _ticket_events(screen) == []
    hub.publish([first])
    hub.pump()
    assert _ticket_events(screen) == [("ticket.issued", first.seq), ("ticket.issued", second.seq)]


def test_events_written_by_another_process_are_picked_up_from_the_log(app: Flask, ctx):
    hub = ext(app).hub
    screen = _socket(app)
    screen.emit("subscribe", {"rooms": ["csa"]}, callback=True)
    ticket = _issue(ctx)
    hub._inbox.get_nowait()  # as if the CLI had written it: the hub never heard of it
    hub._last_poll = 0.0
    hub.pump()
    assert [name for name, _ in _ticket_events(screen)] == ["ticket.issued"]
    assert ticket.number == "A-001"


def test_a_subscriber_only_gets_events_of_its_rooms(app: Flask, ctx):
    hub = ext(app).hub
    upstairs = _socket(app, Auth(ctx).secret("display"))
    upstairs.emit("subscribe", {"rooms": ["zone:planta-alta"]}, callback=True)
    _issue(ctx, "ACTA", "key-0001")       # civil registry: upstairs
    _issue(ctx, "TENENCIA", "key-0002")   # tax collection: ground floor
    hub.pump()
    received = [m["args"][0]["ticket"]["service"] for m in upstairs.get_received()
                if m["name"] == "ticket.issued"]
    assert received == ["ACTA"]


def test_a_client_too_far_behind_gets_a_snapshot_instead_of_a_replay(
    app: Flask, ctx, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(realtime, "REPLAY_LIMIT", 2)
    hub = ext(app).hub
    for n in range(4):
        _issue(ctx, key=f"key-000{n}")
    hub.pump()
    late = _socket(app)
    ack = late.emit("subscribe", {"rooms": ["csa"], "last_seq": 0}, callback=True)
    assert ack["snapshot"] is True
    messages = late.get_received()
    assert [m["name"] for m in messages] == ["snapshot"]
    snapshot = messages[0]["args"][0]
    assert snapshot["seq"] == hub.dispatched
    acta = next(q for q in snapshot["queues"] if q["service"] == "ACTA")
    assert acta["waiting"] == 4


def test_queue_counts_are_coalesced_into_one_message(app: Flask, ctx):
    hub = ext(app).hub
    screen = _socket(app)
    screen.emit("subscribe", {"rooms": ["csa"]}, callback=True)
    for n in range(5):
        _issue(ctx, key=f"key-000{n}")
    hub._last_flush = 0.0
    hub.pump()
    changes = [m["args"][0] for m in screen.get_received() if m["name"] == "queue.changed"]
    assert len(changes) == 1
    assert changes[0]["queues"] == [
        {"service": "ACTA", "waiting": 5, "waiting_preferential": 0, "oldest_wait_seconds": 0}
    ]


def test_anyone_may_follow_a_ticket_by_its_link_but_not_a_counter(app: Flask, ctx):
    hub = ext(app).hub
    ticket = _issue(ctx)
    citizen = _socket(app)
    assert citizen.emit("subscribe", {"rooms": [f"ticket:{ticket.follow_token}"]},
                        callback=True)["ok"]
    refused = citizen.emit("subscribe", {"rooms": ["counter:V17"]}, callback=True)
    assert refused["error"]["code"] == "forbidden"
    assert citizen.emit("subscribe", {"rooms": ["ticket:not-a-real-token"]},
                        callback=True)["error"]["code"] == "not_found"
    hub.pump()
    citizen.get_received()
    calling.call_next(ctx, "V17", actor="staff")
    hub.pump()
    called = [m["args"][0] for m in citizen.get_received() if m["name"] == "ticket.called"]
    assert [c["ticket"]["counter"] for c in called] == ["V17"]


def test_a_wrong_token_cannot_connect(app: Flask, ctx):
    assert not _socket(app, "tk_wrong").is_connected()
    assert _socket(app, Auth(ctx).secret("display")).is_connected()


def test_malformed_subscriptions_are_refused_with_a_reason(app: Flask):
    screen = _socket(app)
    for payload in [None, "csa", {"rooms": "csa"}, {"rooms": [3]},
                    {"rooms": ["csa"], "last_seq": -1}, {"rooms": ["../etc"]}]:
        reply = screen.emit("subscribe", payload, callback=True)
        assert reply["ok"] is False, payload
        assert reply["error"]["code"] in {"bad_request", "bad_room"}


def test_event_rooms_cover_both_sides_of_a_transfer(app: Flask, ctx):
    hub = ext(app).hub
    event = realtime.PublishedEvent(
        seq=1, type="ticket.transferred", at=ctx.clock.now(), ticket_id=9,
        service_code="TENENCIA", counter_id="V17", actor="s",
        payload={"from_service": "ACTA", "from_counter": "V17", "to_counter": None,
                 "ticket": {"counter": None}},
    )
    rooms = hub.rooms_of(dataclasses.replace(event))
    assert {"zone:planta-alta", "zone:planta-baja", "counter:V17", "ticket:9",
            "agency:rc", "agency:rentas"} <= rooms


def test_a_burst_of_calls_reaches_a_screen_in_order_while_queue_counts_are_coalesced(
    app: Flask, ctx, auth: Auth
):
    hub = ext(app).hub
    screen = _socket(app, auth.secret("display"))
    assert screen.emit("subscribe", {"rooms": ["zone:planta-alta"]}, callback=True)["ok"]
    for n in range(20):
        _issue(ctx, key=f"key-{n:04}")
    hub._last_flush = 0.0
    hub.pump()
    screen.get_received()
    called = []
    for _ in range(20):  # one counter as fast as it can go: call, and the citizen gives up
        ticket = calling.call_next(ctx, "V17", actor="staff")
        calling.cancel(ctx, ticket.id, actor="staff")
        called.append(ticket.number)
    hub._last_flush = time.monotonic()  # counts were just sent: the burst must wait its turn
    hub.pump()
    received = screen.get_received()
    calls = [m["args"][0] for m in received if m["name"] == "ticket.called"]
    assert [c["ticket"]["number"] for c in calls] == called
    seqs = [m["args"][0]["seq"] for m in received if m["name"].startswith("ticket.")]
    assert seqs == list(range(seqs[0], seqs[0] + 40))
    assert [m for m in received if m["name"] == "queue.changed"] == []
    hub._last_flush = 0.0
    hub.pump()
    changes = [m["args"][0] for m in screen.get_received() if m["name"] == "queue.changed"]
    assert len(changes) == 1
    assert changes[0]["seq"] == seqs[-1]
    acta = next(q for q in changes[0]["queues"] if q["service"] == "ACTA")
    assert acta["waiting"] == 0


def test_queue_counts_sent_a_slice_at_a_time_reach_every_screen_once(
    app: Flask, ctx, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(realtime, "FLUSH_SLICE", 2)
    hub = ext(app).hub
    screens = [_socket(app) for _ in range(5)]
    for n, screen in enumerate(screens):
        rooms = ["csa"] if n % 2 else ["service:ACTA", "csa"]
        assert screen.emit("subscribe", {"rooms": rooms}, callback=True)["ok"]
    _issue(ctx)
    hub._last_flush = 0.0
    hub.pump()
    for screen in screens:
        changes = [m for m in screen.get_received() if m["name"] == "queue.changed"]
        assert len(changes) == 1
