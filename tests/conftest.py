"""Fixtures shared by every test package: an app per test on its own database."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.app import create_app
from server.clock import FrozenClock
from server.context import Turnos
from server.extensions import ext
from server.services import tokens
from server.settings import Settings
from tests.support.postgres import PostgresServer

ROOT = Path(__file__).resolve().parent.parent
DEMO_CONFIG = ROOT / "config.toml"
# A Monday morning in the demo CSA (America/Mexico_City, UTC-6): the CSA is open.
MONDAY_10AM = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)

# The session's Chromium (`browser`), shared by the kiosk's and the counter's browser tests.
pytest_plugins = ["tests.support.browser"]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that asks for this runs twice: on an SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'turnos.sqlite'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'turnos.sqlite'}"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(MONDAY_10AM)


@pytest.fixture
def make_app(clock: FrozenClock) -> Iterator[Callable[..., Flask]]:
    """Build apps on demand (a given database URL); they are disposed after the test."""
    built: list[Flask] = []

    def build(database_url: str, **overrides) -> Flask:
        settings = Settings(config_path=overrides.pop("config_path", DEMO_CONFIG),
                            database_url=database_url, clock=clock, start_hub=False,
                            **overrides)
        app = create_app(settings)
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield build
    for app in built:
        ext(app).ctx.db.dispose()


@pytest.fixture
def app(make_app: Callable[..., Flask], sqlite_url: str) -> Flask:
    return make_app(sqlite_url)


@pytest.fixture
def ctx(app: Flask) -> Turnos:
    return ext(app).ctx


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


class Auth:
    """Bearer headers for one token of each role."""

    def __init__(self, ctx: Turnos) -> None:
        self._secrets = {role: tokens.create_token(ctx, f"test-{role}", role)
                         for role in ("admin", "staff", "kiosk", "display")}

    def secret(self, role: str) -> str:
        return self._secrets[role]

    def __call__(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._secrets[role]}", **extra}

    def issuing(self, role: str = "kiosk") -> dict[str, str]:
        return self(role, **{"Idempotency-Key": uuid.uuid4().hex})


@pytest.fixture
def auth(ctx: Turnos) -> Auth:
    return Auth(ctx)
