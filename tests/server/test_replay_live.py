"""A real Socket.IO client that reconnects gets exactly the events it missed, in order."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from sqlalchemy import create_engine, select

from server.models import Event
from tests.support.live_server import LiveServer, database_with_tokens

CALLS = 25


class Recorder:
    """Collects ticket events as a screen would receive them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, dict]] = []
        self.lock = threading.Lock()

    def __call__(self, name: str, data: dict) -> None:
        if name.startswith("ticket."):
            with self.lock:
                self.events.append((name, data))

    def settle(self, expected: int, timeout: float = 15.0) -> list[tuple[str, dict]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.events) >= expected:
                    break
            time.sleep(0.05)
        time.sleep(0.3)  # anything extra (a duplicate) would arrive now
        with self.lock:
            return list(self.events)


def _client(url: str, token: str, recorder: Recorder) -> socketio.Client:
    client = socketio.Client(reconnection=False)
    client.on("*", recorder)
    client.connect(url, auth={"token": token}, transports=["websocket"], wait_timeout=10)
    return client


@pytest.mark.slow
def test_a_client_that_reconnects_with_its_last_seq_gets_exactly_the_missed_events(
    tmp_path: Path,
):
    database_url, tokens = database_with_tokens(tmp_path, "display", "staff")
    display, staff = tokens["display"], tokens["staff"]
    server = LiveServer(database_url).start()
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {staff}"
    try:
        for _ in range(CALLS + 1):
            http.post(f"{server.url}/api/v1/tickets", json={"service": "ACTA"},
                      headers={"Idempotency-Key": uuid.uuid4().hex}).raise_for_status()

        first = Recorder()
        client = _client(server.url, display, first)
        ack = client.call("subscribe", {"rooms": ["zone:planta-alta"]}, timeout=10)
        assert ack["ok"] is True
        last_seq = ack["seq"]
        client.disconnect()

        called = []
        for _ in range(CALLS):
            response = http.post(f"{server.url}/api/v1/counters/V17/call-next")
            assert response.status_code == 200
            called.append(response.json()["number"])
            ticket_id = response.json()["id"]
            http.post(f"{server.url}/api/v1/tickets/{ticket_id}/start").raise_for_status()
            http.post(f"{server.url}/api/v1/tickets/{ticket_id}/complete").raise_for_status()

        engine = create_engine(database_url)
        with engine.connect() as conn:
            missed = conn.execute(
                select(Event.seq, Event.type).where(Event.seq > last_seq).order_by(Event.seq)
            ).all()
        engine.dispose()
        assert len(missed) == CALLS * 3

        second = Recorder()
        client = _client(server.url, display, second)
        ack = client.call("subscribe", {"rooms": ["zone:planta-alta"], "last_seq": last_seq},
                          timeout=10)
        assert ack["replayed"] == CALLS * 3
        received = second.settle(CALLS * 3)
        assert [(data["seq"], name) for name, data in received] == [tuple(m) for m in missed]
        calls = [data["ticket"]["number"] for name, data in received if name == "ticket.called"]
        assert calls == called

        # Live events continue right after the replay, once each.
        response = http.post(f"{server.url}/api/v1/counters/V17/call-next")
        assert response.status_code == 200
        received = second.settle(CALLS * 3 + 1)
        assert len(received) == CALLS * 3 + 1
        assert received[-1][1]["seq"] == missed[-1][0] + 1
        assert received[-1][1]["ticket"]["number"] == response.json()["number"]
        client.disconnect()
    finally:
        server.stop()


@pytest.mark.slow
def test_pages_of_another_origin_cannot_open_a_socket(tmp_path: Path):
    server = LiveServer(f"sqlite:///{tmp_path / 'turnos.sqlite'}").start()
    try:
        foreign = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            # Long-polling sends exactly these headers (websocket-client adds its own Origin).
            foreign.connect(server.url, headers={"Origin": "https://evil.example"},
                            transports=["polling"], wait_timeout=5)
        own = socketio.Client(reconnection=False)
        own.connect(server.url, headers={"Origin": server.url}, transports=["polling"],
                    wait_timeout=5)
        assert own.connected
        own.disconnect()
    finally:
        server.stop()
