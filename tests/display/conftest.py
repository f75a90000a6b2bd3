"""Hall display fixtures: a paired display client for the views, staff accounts (tests/auth),
and for the browser tests a live server on a seeded database with a display token."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.context import Turnos
from server.services import tokens
from tests.auth.conftest import everyone, login_as, new_browser, staff  # noqa: F401
from tests.conftest import Auth
from tests.kiosk.conftest import (  # noqa: F401  (fixtures, used by name)
    Seed,
    api,
    live_server,
    make_server,
    new_page,
)
from tests.support.live_server import turnos

ZONE = "planta-alta"  # upstairs: Registro Civil (V17-V22) and others
OTHER_ZONE = "planta-baja"


@pytest.fixture
def display_client(app: Flask, ctx: Turnos) -> FlaskClient:
    """A test client paired as a display, the way the pairing page does it."""
    client = app.test_client()
    secret = tokens.create_token(ctx, "pantalla-test", "display")
    assert client.post(f"/display/{ZONE}/pair", json={"token": secret}).status_code == 204
    return client


@pytest.fixture
def call(client: FlaskClient, auth: Auth) -> Callable[..., dict[str, Any]]:
    """Issue a ticket of `service` and call it at `counter` through the API; the ticket."""
    opened: set[str] = set()

    def issue_and_call(service: str = "ACTA", counter: str = "V17",
                       preferential: str | None = None) -> dict[str, Any]:
        body = {"service": service, **({"preferential": preferential} if preferential else {})}
        issued = client.post("/api/v1/tickets", json=body, headers=auth.issuing("staff"))
        assert issued.status_code == 201, issued.get_json()
        if counter not in opened:
            assert client.post(f"/api/v1/counters/{counter}/open",
                               headers=auth("staff")).status_code == 200
            opened.add(counter)
        called = client.post(f"/api/v1/counters/{counter}/call",
                             json={"number": issued.get_json()["number"]},
                             headers=auth("staff"))
        assert called.status_code == 200, called.get_json()
        return called.get_json()

    return issue_and_call


@dataclass(frozen=True)
class DisplaySeed(Seed):
    """The kiosk tests' seed (kiosk and staff tokens) with a display token too."""

    display_token: str = ""


@pytest.fixture(scope="session")
def seed(tmp_path_factory: pytest.TempPathFactory) -> DisplaySeed:
    """Migrate once and make the tokens with the CLI; each test copies the file."""
    path = tmp_path_factory.mktemp("display-seed") / "turnos.sqlite"
    url = f"sqlite:///{path}"

    def token(role: str) -> str:
        return turnos("token", "create", f"{role}-test", "--role", role,
                      database_url=url).strip()

    kiosk, staff_token, display = token("kiosk"), token("staff"), token("display")
    with sqlite3.connect(path) as conn:  # fold the WAL into the file so one copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return DisplaySeed(path, kiosk, staff_token, display)
