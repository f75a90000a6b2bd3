"""The display's live connection: its pairing cookie lets it into its zone room, where calls
and the managers' ticker line arrive."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import ext
from tests.display.conftest import ZONE


def _socket(app: Flask, client: FlaskClient):
    return ext(app).socketio.test_client(app, flask_test_client=client)


def _join(socket, *rooms: str) -> dict:
    return socket.emit("subscribe", {"rooms": list(rooms)}, callback=True)


def test_a_paired_display_joins_its_zone_room_by_its_cookie_alone(app, display_client):
    socket = _socket(app, display_client)

    assert _join(socket, f"zone:{ZONE}")["ok"]
    assert _join(socket, "counter:V17")["error"]["code"] == "forbidden"


def test_an_unpaired_browser_cannot_join_a_zone_room(app, client):
    socket = _socket(app, client)
    assert _join(socket, f"zone:{ZONE}")["error"]["code"] == "forbidden"


def test_a_forged_display_cookie_is_refused_at_connect(app, client):
    client.set_cookie("turnos_display", "not-a-token", domain="localhost")
    assert not _socket(app, client).is_connected()


def test_a_managers_message_is_pushed_to_the_zone_room_only(app, display_client, login_as,
                                                            everyone):
    upstairs = _socket(app, display_client)
    _join(upstairs, f"zone:{ZONE}")
    downstairs = _socket(app, display_client)
    _join(downstairs, "zone:planta-baja")
    upstairs.get_received()
    downstairs.get_received()
    manager = login_as("gerente")

    manager.client.post(f"/displays/{ZONE}/message",
                        data={"text": "Aviso", "csrf_token": manager.csrf_token()})

    pushed = [m for m in upstairs.get_received() if m["name"] == "display.message"]
    assert [m["args"][0] for m in pushed] == [
        {"zone": ZONE, "message": {"text": "Aviso", "expires_at": None}}]
    assert not [m for m in downstairs.get_received() if m["name"] == "display.message"]
