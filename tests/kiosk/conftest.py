"""Browser fixtures: a real `turnos serve`, the system's Chromium, and a paired kiosk page.

Playwright drives /usr/bin/chromium (override with TURNOS_CHROMIUM); it never downloads a
browser. Each test gets its own server on a fresh copy of one seeded SQLite file, with the
clock shifted to a Monday morning so that the CSA is open whenever the tests run.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS  # noqa: F401  (`browser`: tests/conftest.py)
from tests.support.live_server import LiveServer, turnos

# Monday 23 November 2026, 10:00 in the demo CSA (America/Mexico_City): open.
MONDAY_10AM = "2026-11-23T16:00:00Z"
KIOSK_ID = "kiosco-pa-1"  # upstairs: Registro Civil, RPP, SRE, SAT
PORTRAIT = {"width": 1080, "height": 1920}
LANDSCAPE = {"width": 1920, "height": 1080}
PHONE = {"width": 390, "height": 844}


@dataclass(frozen=True)
class Seed:
    """A migrated database with one kiosk token and one staff token."""

    path: Path
    kiosk_token: str
    staff_token: str


class Api:
    """The JSON API with a staff token: what the server says, to compare with the screen."""

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def get(self, path: str) -> Any:
        response = self.session.get(f"{self.base_url}/api/v1{path}", timeout=10)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, **body: Any) -> requests.Response:
        response = self.session.post(f"{self.base_url}/api/v1{path}", json=body, timeout=10)
        response.raise_for_status()
        return response

    def waiting(self, service: str) -> int:
        """Tickets of `service` waiting today."""
        queues = self.get("/queues")["queues"]
        return next(q["waiting"] for q in queues if q["service"] == service)

    def waiting_total(self) -> int:
        return sum(q["waiting"] for q in self.get("/queues")["queues"])


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """Migrate once and create the tokens with the CLI; each test copies the file."""
    path = tmp_path_factory.mktemp("kiosk-seed") / "turnos.sqlite"
    url = f"sqlite:///{path}"
    kiosk = turnos("token", "create", "kiosk-test", "--role", "kiosk", database_url=url).strip()
    staff = turnos("token", "create", "staff-test", "--role", "staff", database_url=url).strip()
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so one copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seed(path, kiosk, staff)


@pytest.fixture
def make_server(seed: Seed, tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers on this test's copy of the seeded database; all stopped afterwards."""
    database = tmp_path / "turnos.sqlite"
    shutil.copyfile(seed.path, database)
    started: list[LiveServer] = []

    def start(**env: str) -> LiveServer:
        server = LiveServer(f"sqlite:///{database}", env={"TURNOS_CLOCK_START": MONDAY_10AM, **env},
                            log_path=tmp_path / f"server-{len(started)}.log")
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()


@pytest.fixture
def api(live_server: LiveServer, seed: Seed) -> Iterator[Api]:
    client = Api(live_server.url, seed.staff_token)
    yield client
    client.session.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Pages in fresh browser contexts (own cookies), closed after the test."""
    contexts: list[Any] = []

    def open_page(viewport: dict[str, int] = PORTRAIT, *, has_touch: bool = True) -> Any:
        context = browser.new_context(viewport=viewport, has_touch=has_touch, locale="es-MX")
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def pair_kiosk(page: Any, base_url: str, token: str, kiosk_id: str = KIOSK_ID) -> Any:
    """Open the kiosk as a launcher would, /kiosk/<id>#token=..., and wait for its start."""
    page.goto(f"{base_url}/kiosk/{kiosk_id}#token={token}")
    page.wait_for_selector("body.kiosk[data-screen='agencies'] [data-agency]")
    # The fragment is gone once paired, so the token does not linger in the address bar.
    assert "#token" not in page.url
    return page


@pytest.fixture
def open_kiosk(new_page: Callable[..., Any], live_server: LiveServer,
               seed: Seed) -> Callable[..., Any]:
    """A kiosk page paired with the kiosk token, at its start screen."""

    def open_paired(viewport: dict[str, int] = PORTRAIT, *, has_touch: bool = True) -> Any:
        page = new_page(viewport, has_touch=has_touch)
        return pair_kiosk(page, live_server.url, seed.kiosk_token)

    return open_paired


@pytest.fixture
def kiosk(open_kiosk: Callable[..., Any]) -> Any:
    """A paired portrait touchscreen kiosk."""
    return open_kiosk()
