"""The counter terminal behind a clerk's sign-in: its page and the JSON calls of its buttons."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.auth.conftest import Browser, make_account, signed_in
from tests.conftest import Auth


@pytest.fixture
def clerk(ctx, new_browser: Callable[..., Browser]) -> Browser:
    """A civil-registry clerk, signed in."""
    make_account(ctx, "lucia", role="counter", agency="rc", display_name="Lucía Pérez")
    return signed_in(new_browser, "lucia")


def _post(browser: Browser, path: str, body: dict | None = None, *, csrf: bool = True):
    headers = {"X-CSRF-Token": browser.csrf_token()} if csrf else {}
    return browser.client.post(path, json=body or {}, headers=headers)


def _issue(client, auth: Auth, service: str = "ACTA") -> dict:
    return client.post("/api/v1/tickets", json={"service": service},
                       headers=auth.issuing()).get_json()


def test_a_clerk_lands_on_the_counters_of_her_agency(ctx, new_browser):
    make_account(ctx, "lucia", role="counter", agency="rc")
    browser = new_browser()
    landing = browser.login("lucia")
    assert landing.headers["Location"].endswith("/counter/")
    page = browser.get("/counter/").get_data(as_text=True)
    assert "Elija su ventanilla" in page
    assert "Ventanilla 17" in page  # civil registry
    assert "Ventanilla 1<" not in page  # tax collection


def test_the_terminal_shows_the_counter_its_shortcuts_and_a_csrf_token(clerk: Browser):
    page = clerk.get("/counter/V17").get_data(as_text=True)
    assert "Ventanilla 17" in page
    assert "Lucía Pérez" in page
    assert "<kbd>N</kbd> Llamar siguiente" in page
    assert 'name="csrf-token" content="' in page


def test_call_next_start_and_complete_from_the_terminal(clerk: Browser, client, auth: Auth):
    first = _issue(client, auth)
    state = _post(clerk, "/counter/V17/call-next").get_json()
    assert state["ticket"]["number"] == first["number"]
    assert state["ticket"]["status"] == "called"
    _post(clerk, "/counter/V17/ticket/start")
    done = _post(clerk, "/counter/V17/ticket/complete",
                 {"outcome": "resolved", "folio": "RC-77"}).get_json()
    assert done["ticket"] is None
    assert done["day"]["served"] == 1
    history = client.get(f"/api/v1/tickets/{first['id']}", headers=auth("staff")).get_json()
    assert history["status"] == "completed"
    assert history["folio"] == "RC-77"


def test_the_queue_panel_lists_the_next_numbers_preferential_first(clerk: Browser, client,
                                                                    auth: Auth):
    _issue(client, auth)
    client.post("/api/v1/tickets", json={"service": "ACTA", "preferential": "senior"},
                headers=auth.issuing())
    state = clerk.get("/counter/V17/state").get_json()
    acta = next(q for q in state["queues"] if q["service"] == "ACTA")
    assert acta["waiting"] == 2
    assert [(t["number"], t["preferential"]) for t in acta["next"]] == [
        ("A-002", True), ("A-001", False)]


def test_a_button_without_the_csrf_token_changes_nothing(clerk: Browser, client, auth: Auth):
    _issue(client, auth)
    refused = _post(clerk, "/counter/V17/call-next", csrf=False)
    assert refused.status_code == 403
    assert clerk.get("/counter/V17/state").get_json()["ticket"] is None


def test_a_clerk_cannot_work_another_agencys_counter(clerk: Browser):
    assert clerk.get("/counter/V01").status_code == 403
    assert _post(clerk, "/counter/V01/call-next").status_code == 403


def test_acting_without_a_ticket_says_so(clerk: Browser):
    response = _post(clerk, "/counter/V17/ticket/recall")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_current_ticket"


def test_a_transfer_from_the_terminal_frees_the_counter(clerk: Browser, client, auth: Auth):
    ticket = _issue(client, auth)
    _post(clerk, "/counter/V17/call-next")
    state = _post(clerk, "/counter/V17/ticket/transfer",
                  {"service": "MATRI", "placement": "front", "reason": "otro trámite"}).get_json()
    assert state["ticket"] is None
    moved = client.get(f"/api/v1/tickets/{ticket['id']}", headers=auth("staff")).get_json()
    assert (moved["service"], moved["status"]) == ("MATRI", "waiting")


def test_every_counter_action_lands_in_the_audit_log_with_who_and_where(
    clerk: Browser, client, auth: Auth, ctx
):
    from sqlalchemy import select

    from server.auth import audit
    from server.models import AuditEntry

    _issue(client, auth)
    _post(clerk, "/counter/V17/call-next")
    _post(clerk, "/counter/V17/ticket/start")
    _post(clerk, "/counter/V17/ticket/complete", {"outcome": "follow_up"})
    with ctx.db.read() as conn:
        entries = conn.execute(
            select(AuditEntry.actor, AuditEntry.role, AuditEntry.action, AuditEntry.target,
                   AuditEntry.counter_id).where(AuditEntry.action.like("ticket.%"))
            .order_by(AuditEntry.seq)
        ).all()
    assert [tuple(e) for e in entries] == [
        ("lucia", "counter", "ticket.called", "A-001", "V17"),
        ("lucia", "counter", "ticket.started", "A-001", "V17"),
        ("lucia", "counter", "ticket.completed", "A-001", "V17"),
    ]
    assert audit.verify(ctx) == []
