"""Session cookies: their flags, logout that really ends them, idle and absolute timeouts."""

from __future__ import annotations

from http.cookies import SimpleCookie

from server.auth import accounts, audit
from tests.auth.conftest import signed_in


def _set_cookie(response, name: str) -> tuple[str, str]:
    """(value, the whole Set-Cookie header) of the cookie called `name`."""
    for header in response.headers.getlist("Set-Cookie"):
        if header.startswith(f"{name}="):
            return SimpleCookie(header)[name].value, header
    raise AssertionError(f"no {name} cookie in {response.headers.getlist('Set-Cookie')}")


def _attributes(header: str) -> set[str]:
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}


def test_over_https_the_cookie_is_host_prefixed_secure_httponly_and_lax(staff, new_browser):
    staff("ana")
    browser = new_browser("https://localhost")
    response = browser.login("ana")
    _, header = _set_cookie(response, "__Host-turnos_session")
    assert {"secure", "httponly", "path", "samesite"} <= _attributes(header)
    assert "samesite=lax" in header.lower() and "path=/" in header.lower()
    assert "domain" not in _attributes(header)
    assert browser.get("/auth/session").status_code == 200


def test_over_plain_http_the_cookie_is_httponly_and_lax_but_not_secure(staff, browser):
    staff("ana")
    response = browser.login("ana")
    _, header = _set_cookie(response, "turnos_session")
    assert {"httponly", "samesite"} <= _attributes(header)
    assert "samesite=lax" in header.lower()
    assert "secure" not in _attributes(header)
    assert "max-age" not in _attributes(header) and "expires" not in _attributes(header)


def test_an_https_request_ignores_a_session_cookie_without_the_host_prefix(staff, browser,
                                                                           new_browser):
    staff("ana")
    browser.login("ana")
    secure = new_browser("https://localhost")
    secure.client.set_cookie("turnos_session", browser.session_cookie(), domain="localhost")
    assert secure.get("/auth/session").status_code == 401


def test_the_login_form_cookie_is_host_prefixed_and_strict_over_https(new_browser):
    response = new_browser("https://localhost").get("/login")
    _, header = _set_cookie(response, "__Host-turnos_login")
    assert {"secure", "httponly"} <= _attributes(header)
    assert "samesite=strict" in header.lower()


def test_after_logout_a_replayed_cookie_is_refused(staff, new_browser):
    staff("root", role="admin", agency=None)
    browser = signed_in(new_browser, "root")
    stolen = browser.session_cookie()
    response = browser.logout()
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert browser.session_cookie() is None

    replay = new_browser()
    replay.client.set_cookie("turnos_session", stolen, domain="localhost")
    assert replay.get("/auth/session").status_code == 401
    page = replay.get("/admin/staff")
    assert page.status_code == 303
    assert page.headers["Location"].startswith("/login")


def test_logout_is_audited(staff, new_browser, ctx):
    staff("ana")
    signed_in(new_browser, "ana").logout()
    newest = audit.recent(ctx, limit=1)[0]
    assert (newest.action, newest.actor, newest.role) == ("staff.signed_out", "ana", "counter")


def test_a_session_idle_longer_than_the_timeout_ends(staff, new_browser, clock):
    staff("ana")
    browser = signed_in(new_browser, "ana")
    clock.advance(minutes=30, seconds=1)
    assert browser.get("/auth/session").status_code == 401


def test_activity_keeps_a_session_alive_past_the_idle_timeout(staff, new_browser, clock):
    staff("ana")
    browser = signed_in(new_browser, "ana")
    for _ in range(4):  # two hours in all, never 30 minutes idle
        clock.advance(minutes=29)
        assert browser.get("/auth/session").status_code == 200


def test_no_session_outlives_twelve_hours_however_active(staff, new_browser, clock):
    staff("ana")
    browser = signed_in(new_browser, "ana")
    for step in range(24):  # 11 h 36 min of steady work
        clock.advance(minutes=29)
        assert browser.get("/auth/session").status_code == 200, step
    clock.advance(minutes=29)
    assert browser.get("/auth/session").status_code == 401


def test_the_idle_timeout_comes_from_the_security_table(make_app, sqlite_url, tmp_path, ctx,
                                                        clock):
    from tests.auth.conftest import Browser, make_account
    from tests.conftest import DEMO_CONFIG

    short = tmp_path / "config.toml"
    short.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        "session_idle_minutes = 30", "session_idle_minutes = 5"), encoding="utf-8")
    browser = Browser(make_app(sqlite_url, config_path=short).test_client())
    make_account(ctx, "ana")
    browser.login("ana")
    clock.advance(minutes=4)
    assert browser.get("/auth/session").status_code == 200
    clock.advance(minutes=5, seconds=1)
    assert browser.get("/auth/session").status_code == 401


def test_deactivating_an_account_ends_its_sessions_at_once(staff, new_browser, ctx):
    ana = staff("ana")
    browser = signed_in(new_browser, "ana")
    accounts.set_active(ctx, ana.id, False, actor=accounts.CLI)
    assert browser.get("/auth/session").status_code == 401


def test_a_new_password_ends_the_accounts_sessions(staff, new_browser, ctx):
    ana = staff("ana")
    browser = signed_in(new_browser, "ana")
    accounts.reset_password(ctx, ana.id, "otra frase bastante larga", actor=accounts.CLI)
    assert browser.get("/auth/session").status_code == 401
