"""Socket.IO clients as the CSA's screens connect to a server of several worker processes."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import socketio

from tests.support.live_server import GunicornServer


class Screen:
    """A Socket.IO client connected as a hall display is (WebSocket only), the worker process
    that holds its connection, and every event it receives, in arrival order."""

    def __init__(self, server: GunicornServer, token: str | None = None, *,
                 cookie: str | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self._acked = 0
        self._lock = threading.Lock()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", self._record)
        # A display's token, or a staff page's session cookie.
        self.client.connect(server.url, auth={"token": token} if token else None,
                            headers={"Cookie": cookie} if cookie else {},
                            transports=["websocket"], wait_timeout=10)
        self.worker = server.worker_holding(self.client.eio.ws.sock.getsockname()[1])
        assert self.worker in server.worker_pids()

    def _record(self, name: str, data: dict[str, Any]) -> None:
        with self._lock:
            self.events.append((name, data))

    def subscribe(self, rooms: list[str], last_seq: int | None = None) -> dict[str, Any]:
        ack = self.client.call("subscribe", {"rooms": rooms, "last_seq": last_seq}, timeout=10)
        assert ack["ok"] is True, ack
        with self._lock:
            self._acked = ack["seq"]
        return ack

    def last_seq(self) -> int:
        """The seq to reconnect with, as server/static/js/live.js keeps it: the subscription's,
        or that of the newest event received since."""
        with self._lock:
            return max([self._acked, *(seq for seq, _ in self._logged())])

    def logged(self) -> list[tuple[int, str]]:
        """(seq, name) of the received events of the log, i.e. all but queue counts and
        display lines."""
        with self._lock:
            return self._logged()

    def _logged(self) -> list[tuple[int, str]]:
        return [(data["seq"], name) for name, data in self.events
                if name not in ("queue.changed", "display.message", "snapshot")]

    def received(self, name: str) -> list[dict[str, Any]]:
        with self._lock:
            return [data for event, data in self.events if event == name]

    def disconnect(self) -> None:
        self.client.disconnect()


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait for `check()`, then a little longer: a duplicate would arrive meanwhile."""
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)


def screens_on_every_worker(server: GunicornServer, token: str | None, at_least: int,
                             each: int, cookie: str | None = None) -> list[Screen]:
    """New connections until there are `at_least` and every worker holds `each` of them."""
    screens: list[Screen] = []
    while len(screens) < 40:
        screens.append(Screen(server, token, cookie=cookie))
        held = Counter(screen.worker for screen in screens)
        if (len(screens) >= at_least
                and all(held[worker] >= each for worker in server.worker_pids())):
            return screens
    raise AssertionError(f"40 connections and still a worker without {each}: {held}")
