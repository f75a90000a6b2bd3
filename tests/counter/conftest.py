"""The counter terminal's fixtures: signed-in test clients (tests/auth) for its views, and
for the browser tests a live server whose seeded database also holds two clerks' accounts,
with the kiosk tests' live server and API client (Chromium: tests/support/browser.py)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from tests.auth.conftest import new_browser  # noqa: F401  (a fixture, used by name)
from tests.kiosk.conftest import (  # noqa: F401  (fixtures, used by name)
    Seed,
    api,
    live_server,
    make_server,
    new_page,
)
from tests.support.live_server import turnos

# Two civil-registry clerks ("rc"), both allowed at Ventanilla 17.
CLERKS = {"lucia": "Lucía Pérez", "mario": "Mario Gómez"}
PASSWORD = "ventanilla-17-segura"


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> Seed:
    """Migrate once: a kiosk token, a staff token and the clerks; each test copies the file."""
    path = tmp_path_factory.mktemp("counter-seed") / "turnos.sqlite"
    url = f"sqlite:///{path}"
    kiosk = turnos("token", "create", "kiosk-test", "--role", "kiosk", database_url=url).strip()
    staff = turnos("token", "create", "staff-test", "--role", "staff", database_url=url).strip()
    for username, name in CLERKS.items():
        turnos("staff", "add", username, "--role", "counter", "--agency", "rc", "--name", name,
               "--password-stdin", database_url=url, input=PASSWORD + "\n")
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so one copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Seed(path, kiosk, staff)


def sign_in(page: Any, base_url: str, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form, as a clerk does; the page lands where the server sends it."""
    page.goto(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


@pytest.fixture
def open_terminal(new_page: Callable[..., Any], live_server: Any) -> Callable[..., Any]:  # noqa: F811
    """A clerk's page, signed in, at the terminal of `counter` with its live connection up."""

    def open_for(username: str = "lucia", counter: str = "V17") -> Any:
        page = new_page({"width": 1366, "height": 900}, has_touch=False)
        sign_in(page, live_server.url, username)
        page.goto(f"{live_server.url}/counter/{counter}")
        page.wait_for_selector("[data-live][data-status='live']")
        return page

    return open_for
