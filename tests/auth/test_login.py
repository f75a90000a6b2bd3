"""Signing in: a new session every time, one message for every failure, safe redirects."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from server.auth import audit
from server.models import StaffSession, StaffUser
from tests.auth.conftest import PASSWORD, signed_in

GENERIC_FAILURE = "Usuario o contraseña incorrectos."


def _failure_text(response) -> str:
    text = response.get_data(as_text=True)
    start = text.index('class="error"')
    return text[text.index(">", start) + 1:text.index("</p>", start)]


def test_the_login_page_is_in_spanish_and_carries_a_form_token(client):
    page = client.get("/login")
    assert page.status_code == 200
    assert "Acceso del personal" in page.text
    assert 'name="csrf_token"' in page.text
    assert page.headers["Cache-Control"] == "no-store"


def test_signing_in_sets_a_session_cookie_and_lands_admins_on_the_accounts_page(staff, browser):
    staff("root", role="admin", agency=None)
    response = browser.login("root")
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/staff"
    assert browser.session_cookie()
    assert browser.get("/admin/staff").status_code == 200


def test_usernames_are_not_case_sensitive(staff, browser):
    staff("ana")
    assert browser.login("  ANA ").status_code == 303


def test_signing_in_again_rotates_the_session_and_ends_the_old_one(staff, browser,
                                                                   new_browser):
    staff("ana")
    browser.login("ana")
    first = browser.session_cookie()
    browser.login("ana")
    second = browser.session_cookie()
    assert first and second and first != second

    replay = new_browser()
    replay.client.set_cookie("turnos_session", first, domain="localhost")
    assert replay.get("/auth/session").status_code == 401


def test_a_cookie_planted_before_login_is_never_adopted_as_the_session(staff, browser):
    staff("ana")
    browser.client.set_cookie("turnos_session", "chosen-by-an-attacker", domain="localhost")
    browser.login("ana")
    assert browser.session_cookie() not in (None, "chosen-by-an-attacker")


def test_the_pre_login_cookie_value_differs_from_the_session_cookie(staff, browser):
    staff("ana")
    browser.login_form_token()
    pre_login = browser.client.get_cookie("turnos_login", domain="localhost").value
    browser.login("ana")
    assert browser.session_cookie() != pre_login
    assert browser.client.get_cookie("turnos_login", domain="localhost") is None


@pytest.mark.parametrize("username, password", [
    ("nadie", PASSWORD),              # no such account
    ("ana", "wrong password here"),   # wrong password
])
def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(staff, browser, username,
                                                                  password):
    staff("ana")
    response = browser.login(username, password)
    assert response.status_code == 401
    assert _failure_text(response) == GENERIC_FAILURE
    assert browser.session_cookie() is None


def test_a_deactivated_or_locked_account_gets_the_same_answer_as_a_wrong_password(
    ctx, staff, browser
):
    staff("ana")
    staff("beto")
    with ctx.db.write() as conn:
        conn.execute(update(StaffUser).where(StaffUser.username == "ana").values(active=False))
        conn.execute(update(StaffUser).where(StaffUser.username == "beto")
                     .values(locked_until=ctx.clock.now() + dt.timedelta(minutes=5)))
    for username in ("ana", "beto"):
        response = browser.login(username)
        assert (response.status_code, _failure_text(response)) == (401, GENERIC_FAILURE)


def test_the_login_form_without_its_cookie_token_is_refused_with_403(staff, client):
    staff("ana")
    response = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                           "csrf_token": "made-up"})
    assert response.status_code == 403
    assert client.get_cookie("turnos_session", domain="localhost") is None


def test_the_login_form_with_a_token_other_than_its_cookie_is_refused_with_403(staff, browser):
    staff("ana")
    browser.login_form_token()
    response = browser.client.post("/login", data={
        "username": "ana", "password": PASSWORD, "csrf_token": "x" * 43})
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil",
                                    "javascript:alert(1)"])
def test_signing_in_never_redirects_off_the_site(staff, browser, target):
    staff("ana")
    response = browser.login("ana", next_path=target)
    # Not the off-site target: the counter clerk's own landing page.
    assert response.headers["Location"] == "/counter/"


def test_signing_in_returns_to_the_page_that_asked(staff, browser):
    staff("root", role="admin", agency=None)
    redirect = browser.get("/admin/audit")
    assert redirect.headers["Location"] == "/login?next=%2Fadmin%2Faudit"
    response = browser.login("root", next_path="/admin/audit")
    assert response.headers["Location"] == "/admin/audit"


def test_sign_ins_and_failures_are_audited_with_their_source(staff, browser, ctx):
    staff("ana")
    browser.login("ana", "wrong password here", ip="10.1.2.3")
    browser.login("ana", ip="10.1.2.4")
    entries = [e for e in audit.recent(ctx) if e.action.startswith("staff.sign")]
    signed_in_entry, failed = entries
    assert (failed.action, failed.actor, failed.target, failed.device) == (
        "staff.sign_in_failed", "anonymous", "ana", "10.1.2.3")
    assert failed.details["reason"] == "wrong_password"
    assert (signed_in_entry.action, signed_in_entry.actor, signed_in_entry.role,
            signed_in_entry.device) == ("staff.signed_in", "ana", "counter", "10.1.2.4")
    assert signed_in_entry.at == ctx.clock.now()


def test_the_session_row_keeps_only_a_hash_of_the_cookie(staff, new_browser, ctx):
    staff("ana")
    browser = signed_in(new_browser, "ana")
    with ctx.db.read() as conn:
        ids = conn.execute(select(StaffSession.id)).scalars().all()
    assert len(ids) == 1 and browser.session_cookie() not in ids[0]


def test_signing_in_failing_and_rate_limiting_work_on_both_databases(make_app, database_url):
    from server.extensions import ext
    from tests.auth.conftest import Browser, make_account

    app = make_app(database_url)
    make_account(ext(app).ctx, "ana")
    browser = Browser(app.test_client())
    assert browser.login("ana", "wrong password here").status_code == 401
    assert browser.login("ana").status_code == 303
    assert browser.get("/auth/session").get_json()["username"] == "ana"
    for _ in range(8):
        browser.login("ana", ip="10.0.0.2")
    assert browser.login("ana", ip="10.0.0.3").status_code == 429
    assert audit.verify(ext(app).ctx) == []
