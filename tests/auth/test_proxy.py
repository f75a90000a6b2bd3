"""Behind a TLS-terminating proxy (TURNOS_PROXY_HOPS=1): the client's address and HTTPS come
from the proxy's headers; without that setting, nobody can claim them with a header."""

from __future__ import annotations

import pytest

from server.auth import audit
from server.extensions import ext
from server.settings import proxy_hops_from_env
from tests.auth.conftest import PASSWORD, Browser, make_account

FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def _login_through_proxy(app) -> tuple[Browser, object]:
    make_account(ext(app).ctx, "ana")
    browser = Browser(app.test_client())
    page = browser.client.get("/login", headers=FORWARDED)
    token = page.text.split('name="csrf_token" value="')[-1].split('"')[0]
    response = browser.client.post("/login", headers=FORWARDED, data={
        "username": "ana", "password": PASSWORD, "csrf_token": token})
    return browser, response


def test_behind_one_proxy_the_forwarded_address_and_https_are_used(make_app, sqlite_url):
    app = make_app(sqlite_url, proxy_hops=1)
    _, response = _login_through_proxy(app)
    assert response.status_code == 303
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Host-turnos_session=") and "Secure" in c for c in cookies)
    assert response.headers["Strict-Transport-Security"]
    assert audit.recent(ext(app).ctx, limit=1)[0].device == "203.0.113.7"


def test_without_the_setting_forwarded_headers_are_ignored(make_app, sqlite_url):
    app = make_app(sqlite_url)
    _, response = _login_through_proxy(app)
    assert response.status_code == 303
    assert any(c.startswith("turnos_session=") for c in response.headers.getlist("Set-Cookie"))
    assert "Strict-Transport-Security" not in response.headers
    assert audit.recent(ext(app).ctx, limit=1)[0].device == "127.0.0.1"


@pytest.mark.parametrize("value", ["-1", "one", "9"])
def test_a_bad_proxy_hops_value_stops_the_server(monkeypatch, value):
    monkeypatch.setenv("TURNOS_PROXY_HOPS", value)
    with pytest.raises(ValueError, match="TURNOS_PROXY_HOPS"):
        proxy_hops_from_env()
