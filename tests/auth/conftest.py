"""Staff accounts and a browser-like helper that signs them in and out."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.auth import accounts
from server.clock import FrozenClock
from server.context import Turnos

PASSWORD = "correct horse battery staple"
# One account per role; counter staff of the civil registry (counters V17-V22).
ACCOUNTS = {
    "counter": ("cajero", "rc"),
    "orientation": ("orienta", None),
    "manager": ("gerente", None),
    "admin": ("admin", None),
}
# The login form's token (a signed-in page also has the session's, in the sign-out form).
_LOGIN_TOKEN = re.compile(r'action="/login">\s*<input type="hidden" name="csrf_token" '
                          r'value="([^"]+)"')


def make_account(ctx: Turnos, username: str, role: str = "counter", agency: str | None = "rc",
                 password: str = PASSWORD, **overrides) -> accounts.Account:
    """A staff account with sensible defaults."""
    return accounts.create_account(
        ctx, username=username, display_name=overrides.pop("display_name", username.title()),
        role=role, agency_id=agency, password=password, actor=accounts.CLI, **overrides)


@pytest.fixture
def staff(ctx: Turnos) -> Callable[..., accounts.Account]:
    """make_account(username, role=..., agency=..., password=...) bound to this test's app."""
    return lambda username, **kwargs: make_account(ctx, username, **kwargs)


@pytest.fixture
def everyone(ctx: Turnos) -> dict[str, accounts.Account]:
    """One account of each role (see ACCOUNTS)."""
    return {role: make_account(ctx, name, role=role, agency=agency)
            for role, (name, agency) in ACCOUNTS.items()}


class Browser:
    """A test client that signs in through the login form, as a person would."""

    def __init__(self, client: FlaskClient, base_url: str = "http://localhost") -> None:
        self.client = client
        self.base_url = base_url

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")

    def login_form_token(self, **environ) -> str:
        page = self.client.get("/login", base_url=self.base_url, environ_base=environ)
        return _LOGIN_TOKEN.search(page.text).group(1)

    def login(self, username: str, password: str = PASSWORD, *, ip: str = "127.0.0.1",
              next_path: str | None = None) -> TestResponse:
        environ = {"REMOTE_ADDR": ip}
        form = {"username": username, "password": password,
                "csrf_token": self.login_form_token(**environ)}
        if next_path is not None:
            form["next"] = next_path
        return self.client.post("/login", data=form, base_url=self.base_url,
                                environ_base=environ)

    def session_cookie(self) -> str | None:
        name = "__Host-turnos_session" if self.secure else "turnos_session"
        cookie = self.client.get_cookie(name, domain="localhost")
        return cookie.value if cookie else None

    def csrf_token(self) -> str:
        response = self.client.get("/auth/session", base_url=self.base_url)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()["csrf_token"]

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True,
             **kwargs) -> TestResponse:
        data = dict(data or {})
        if csrf:
            data["csrf_token"] = self.csrf_token()
        return self.client.post(path, data=data, base_url=self.base_url, **kwargs)

    def get(self, path: str, **kwargs) -> TestResponse:
        return self.client.get(path, base_url=self.base_url, **kwargs)

    def logout(self) -> TestResponse:
        return self.post("/logout")


@pytest.fixture
def browser(client: FlaskClient) -> Browser:
    return Browser(client)


@pytest.fixture
def new_browser(app: Flask) -> Callable[..., Browser]:
    """Browsers with cookie jars of their own."""
    return lambda base_url="http://localhost": Browser(app.test_client(), base_url)


_addresses = itertools.count(1)


def signed_in(new_browser: Callable[..., Browser], username: str) -> Browser:
    """A new browser, signed in from an address of its own."""
    browser = new_browser()
    n = next(_addresses)
    response = browser.login(username, ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")
    assert response.status_code == 303, response.get_data(as_text=True)
    return browser


@pytest.fixture
def login_as(new_browser: Callable[..., Browser], clock: FrozenClock) -> Callable[[str], Browser]:
    """signed_in() for tests that sign in often: six seconds pass before each sign-in, so
    that one account's ten sign-ins a minute are never exceeded."""

    def login(username: str) -> Browser:
        clock.advance(seconds=6)
        return signed_in(new_browser, username)

    return login
