"""Ten login attempts a minute per account and per source; lockouts administrators can see."""

from __future__ import annotations

import datetime as dt

from server.auth import accounts
from tests.auth.conftest import signed_in

WRONG = "definitely not it"


def test_the_eleventh_attempt_on_one_account_within_a_minute_is_refused_with_429(
    staff, browser, clock
):
    staff("ana")
    for attempt in range(10):  # from ten different addresses: the account limit alone counts
        response = browser.login("ana", WRONG, ip=f"10.0.0.{attempt + 1}")
        assert response.status_code == 401, attempt
    clock.advance(seconds=50)

    eleventh = browser.login("ana", ip="10.0.0.99")

    assert eleventh.status_code == 429
    assert "Demasiados intentos" in eleventh.text
    assert 1 <= int(eleventh.headers["Retry-After"]) <= 11
    assert browser.session_cookie() is None


def test_the_eleventh_attempt_from_one_address_across_accounts_is_refused_with_429(
    staff, browser
):
    staff("ana")
    for attempt in range(10):
        assert browser.login(f"user{attempt}", WRONG, ip="10.9.9.9").status_code == 401

    assert browser.login("ana", ip="10.9.9.9").status_code == 429
    assert browser.login("ana", ip="10.9.9.8").status_code == 303


def test_the_limit_slides_with_the_minute(staff, browser, clock):
    staff("ana")
    for _ in range(10):  # successful attempts count too
        assert browser.login("ana").status_code == 303
    assert browser.login("ana").status_code == 429
    clock.advance(seconds=61)
    assert browser.login("ana").status_code == 303


def test_refused_attempts_do_not_keep_the_window_full(staff, browser, clock):
    staff("ana")
    for _ in range(10):
        browser.login("ana")
    for _ in range(5):
        clock.advance(seconds=10)
        assert browser.login("ana", WRONG).status_code == 429
    clock.advance(seconds=11)
    assert browser.login("ana").status_code == 303


def test_the_limit_comes_from_the_security_table_of_the_config(make_app, sqlite_url, tmp_path,
                                                               ctx):
    from tests.auth.conftest import Browser, make_account
    from tests.conftest import DEMO_CONFIG

    strict = tmp_path / "config.toml"
    strict.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        "login_attempts_per_minute = 10", "login_attempts_per_minute = 3"), encoding="utf-8")
    browser = Browser(make_app(sqlite_url, config_path=strict).test_client())
    make_account(ctx, "ana")
    for _ in range(3):
        assert browser.login("ana", WRONG).status_code == 401
    assert browser.login("ana").status_code == 429


def test_an_account_locks_after_ten_wrong_passwords_and_unlocks_after_fifteen_minutes(
    staff, browser, clock, ctx
):
    ana = staff("ana")
    for attempt in range(10):
        clock.advance(seconds=7)  # slow enough for the rate limit
        assert browser.login("ana", WRONG).status_code == 401, attempt
    locked = accounts.get_account(ctx, ana.id)
    assert locked.locked(clock.now())
    assert locked.locked_until == clock.now() + dt.timedelta(minutes=15)

    clock.advance(minutes=14)
    assert browser.login("ana").status_code == 401  # the right password, but locked
    clock.advance(minutes=1, seconds=1)
    assert browser.login("ana").status_code == 303
    assert accounts.get_account(ctx, ana.id).failed_logins == 0


def test_a_wrong_password_after_a_lockout_expired_starts_counting_again(staff, browser, clock,
                                                                        ctx):
    ana = staff("ana")
    for _ in range(10):
        clock.advance(seconds=7)
        browser.login("ana", WRONG)
    clock.advance(minutes=16)
    assert browser.login("ana", WRONG).status_code == 401
    after = accounts.get_account(ctx, ana.id)
    assert (after.failed_logins, after.locked(clock.now())) == (1, False)


def test_a_lockout_shows_on_the_administrators_page_and_they_can_lift_it(
    staff, browser, new_browser, clock, ctx
):
    ana = staff("ana")
    staff("root", role="admin", agency=None)
    for _ in range(10):
        clock.advance(seconds=7)
        browser.login("ana", WRONG)
    admin = signed_in(new_browser, "root")

    page = admin.get("/admin/staff").text
    row = page[page.index('data-username="ana"'):]
    row = row[:row.index("</tr>")]
    assert 'data-locked="yes"' in row
    local_until = (clock.now() + dt.timedelta(minutes=15)).astimezone(
        ctx.config.timezone).strftime("%H:%M")
    assert local_until in row[row.index("data-locked-until"):]
    assert ">10<" in row[row.index("data-failed-logins"):]

    response = admin.post(f"/admin/staff/{ana.id}/unlock")
    assert response.status_code == 303
    assert not accounts.get_account(ctx, ana.id).locked(clock.now())
    assert browser.login("ana", ip="10.0.0.1").status_code == 303
