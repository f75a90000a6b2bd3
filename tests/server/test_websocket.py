"""The lean WebSocket transport: its frames, and live pushes under the production server."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
import socketio
from wsproto.frame_protocol import FrameProtocol, Opcode

from server.websocket import text_frame
from tests.support.live_server import GunicornServer, database_with_tokens


@pytest.mark.parametrize("message", ["", "x" * 125, "x" * 126, "x" * 65_535, "x" * 65_536,
                                     "Turno A-042, pase al Módulo 3B — ñ" * 5_000])
def test_a_text_frame_reads_back_as_the_same_message_whatever_its_length(message: str):
    reader = FrameProtocol(client=True, extensions=[])
    reader.receive_bytes(text_frame(message))
    frames = list(reader.received_frames())
    assert len(frames) == 1
    assert frames[0].opcode is Opcode.TEXT
    assert frames[0].message_finished
    assert frames[0].payload == message


@pytest.fixture
def production(tmp_path: Path):
    database_url, tokens = database_with_tokens(tmp_path, "display", "staff")
    server = GunicornServer(database_url, tmp_path / "gunicorn.log")
    yield server, tokens
    server.stop()


def _handshake(url: str, extensions: str) -> str:
    """The server's answer to a WebSocket upgrade request that offers `extensions`."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(
            b"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
            + f"Host: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n".encode()
            + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + f"Sec-WebSocket-Extensions: {extensions}\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = conn.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.split(b"\r\n\r\n")[0].decode()


@pytest.mark.slow
def test_the_production_server_declines_per_client_compression(production):
    server, _ = production
    answer = _handshake(server.url, "permessage-deflate; client_max_window_bits")
    assert answer.startswith("HTTP/1.1 101")
    assert "sec-websocket-extensions" not in answer.lower()


@pytest.mark.slow
def test_under_the_production_server_live_calls_arrive_in_order_past_the_ping_timeout(
    production,
):
    """Pushed packets skip Engine.IO's writer queue; the connection must outlive the writer's
    idle timeout (ping interval + ping timeout, 20 s) and keep every call in order."""
    server, tokens = production
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {tokens['staff']}"
    for _ in range(30):
        http.post(f"{server.url}/api/v1/tickets", json={"service": "ACTA"},
                  headers={"Idempotency-Key": uuid.uuid4().hex}).raise_for_status()
    calls: list[str] = []
    disconnects: list[object] = []
    lock = threading.Lock()

    def on_called(data: dict) -> None:
        with lock:
            calls.append(data["ticket"]["number"])

    screen = socketio.Client(reconnection=False)
    screen.on("ticket.called", on_called)
    screen.on("disconnect", lambda *reason: disconnects.append(reason))
    screen.connect(server.url, auth={"token": tokens["display"]}, transports=["websocket"],
                   wait_timeout=10)
    assert screen.call("subscribe", {"rooms": ["zone:planta-alta"]}, timeout=10)["ok"]
    called = []
    started = time.monotonic()
    while time.monotonic() - started < 24:
        response = http.post(f"{server.url}/api/v1/counters/V17/call-next")
        assert response.status_code == 200
        called.append(response.json()["number"])
        http.post(f"{server.url}/api/v1/tickets/{response.json()['id']}/cancel"
                  ).raise_for_status()
        time.sleep(1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(calls) < len(called):
        time.sleep(0.1)
    assert disconnects == []
    assert screen.connected
    assert calls == called
    screen.disconnect()
