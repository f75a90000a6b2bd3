"""Live connections of staff screens: the session cookie decides which rooms they may join,
and devices (displays, kiosks) never get the rooms of counters."""

from __future__ import annotations

import pytest
from flask import Flask

from server.extensions import ext
from tests.auth.conftest import Browser, signed_in
from tests.conftest import Auth


def _socket(app: Flask, *, browser: Browser | None = None, token: str | None = None):
    return ext(app).socketio.test_client(
        app, auth={"token": token} if token else None,
        flask_test_client=browser.client if browser else None)


def _join(socket, *rooms: str) -> dict:
    return socket.emit("subscribe", {"rooms": list(rooms)}, callback=True)


@pytest.mark.parametrize("role", ["display", "kiosk"])
def test_a_display_or_kiosk_socket_cannot_join_counter_rooms(app, auth: Auth, role):
    socket = _socket(app, token=auth.secret(role))
    assert socket.is_connected()
    for counter in ("V17", "V01"):
        reply = _join(socket, f"counter:{counter}")
        assert reply == {"ok": False, "error": {
            "code": "forbidden", "message": f"this connection may not join counter:{counter}"}}
    assert _join(socket, "csa")["ok"]


def test_an_anonymous_socket_cannot_join_counter_or_agency_rooms(app):
    socket = _socket(app)
    assert _join(socket, "counter:V17")["error"]["code"] == "forbidden"
    assert _join(socket, "agency:rc")["error"]["code"] == "forbidden"


def test_counter_staff_join_the_rooms_of_their_own_agency_only(app, everyone, new_browser):
    socket = _socket(app, browser=signed_in(new_browser, "cajero"))  # civil registry
    assert _join(socket, "counter:V17", "agency:rc", "service:ACTA", "csa",
                 "zone:planta-alta")["ok"]
    for room in ("counter:V01", "agency:rentas", "service:TENENCIA", "counter:NOPE"):
        assert _join(socket, room)["error"]["code"] == "forbidden", room


def test_managers_and_administrators_join_every_agencys_rooms(app, everyone, new_browser):
    for username in ("gerente", "admin"):
        socket = _socket(app, browser=signed_in(new_browser, username))
        assert _join(socket, "counter:V01", "counter:V17", "agency:sat", "service:RFC")["ok"]


def test_orientation_staff_follow_the_queues_but_not_the_counters(app, everyone, new_browser):
    socket = _socket(app, browser=signed_in(new_browser, "orienta"))
    assert _join(socket, "agency:rc", "service:ACTA", "zone:planta-baja")["ok"]
    assert _join(socket, "counter:V17")["error"]["code"] == "forbidden"


def test_signing_out_disconnects_the_sessions_sockets(app, everyone, new_browser):
    browser = signed_in(new_browser, "cajero")
    socket = _socket(app, browser=browser)
    other = _socket(app, browser=signed_in(new_browser, "cajero"))
    assert _join(socket, "counter:V17")["ok"]
    browser.logout()
    assert not socket.is_connected()
    assert other.is_connected()


def test_a_socket_whose_session_ended_may_not_subscribe_any_more(app, everyone, new_browser,
                                                                 clock):
    socket = _socket(app, browser=signed_in(new_browser, "cajero"))
    clock.advance(minutes=31)
    assert _join(socket, "csa")["error"]["code"] == "unauthorized"


def test_a_stale_session_cookie_connects_as_an_anonymous_screen(app, everyone, new_browser):
    browser = signed_in(new_browser, "cajero")
    stale = browser.session_cookie()
    browser.logout()
    replay = new_browser()
    replay.client.set_cookie("turnos_session", stale, domain="localhost")
    socket = _socket(app, browser=replay)
    assert socket.is_connected()
    assert _join(socket, "csa")["ok"]
    assert _join(socket, "counter:V17")["error"]["code"] == "forbidden"
