"""Orientation staff issue tickets on a citizen's behalf from a tablet."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from server.models import PrintJob
from tests.auth.conftest import Browser, make_account, signed_in


@pytest.fixture
def tablet(ctx, new_browser: Callable[..., Browser]) -> Browser:
    make_account(ctx, "marta", role="orientation", agency=None, display_name="Marta Ruiz")
    return signed_in(new_browser, "marta")


def _issue(browser: Browser, body: dict):
    return browser.client.post("/orientation/tickets", json=body,
                               headers={"X-CSRF-Token": browser.csrf_token()})


def test_orientation_staff_land_on_the_tablet_with_every_agency(ctx, new_browser):
    make_account(ctx, "marta", role="orientation", agency=None)
    browser = new_browser()
    assert browser.login("marta").headers["Location"].endswith("/orientation/")
    page = browser.get("/orientation/").get_data(as_text=True)
    assert "Registro Civil" in page and "Recaudación de Rentas" in page


def test_a_ticket_issued_for_a_citizen_is_shown_with_its_qr(tablet: Browser):
    response = _issue(tablet, {"service": "ACTA", "preferential": "senior", "key": "tab-0001"})
    assert response.status_code == 201
    ticket = response.get_json()
    assert ticket["number"] == "A-001"
    assert ticket["preferential"] is True
    assert tablet.get(ticket["qr_url"]).mimetype == "image/svg+xml"


def test_a_ticket_can_be_printed_at_a_chosen_printer(tablet: Browser, ctx):
    ticket = _issue(tablet, {"service": "TENENCIA", "printer": "pb-2", "key": "tab-0002"})
    assert ticket.status_code == 201
    with ctx.db.read() as conn:
        jobs = conn.execute(select(PrintJob.printer_id, PrintJob.status)).all()
    assert [tuple(job) for job in jobs] == [("pb-2", "queued")]


def test_the_same_request_sent_twice_is_one_ticket(tablet: Browser):
    first = _issue(tablet, {"service": "ACTA", "key": "tab-twice"}).get_json()
    second = _issue(tablet, {"service": "ACTA", "key": "tab-twice"}).get_json()
    assert first["number"] == second["number"] == "A-001"


def test_unknown_printers_and_closed_services_are_refused(tablet: Browser, ctx):
    from server.services.counters import CounterState, set_state

    bad = _issue(tablet, {"service": "ACTA", "printer": "nope", "key": "tab-0003"})
    assert bad.status_code == 422
    for counter in ctx.config.counters:
        if "ACTA" in counter.services:
            set_state(ctx, counter.id, CounterState.CLOSED, actor="test")
    closed = _issue(tablet, {"service": "ACTA", "key": "tab-0004"})
    assert closed.status_code == 409
    assert closed.get_json()["error"]["code"] == "service_closed"


def test_a_post_without_the_csrf_token_issues_nothing(tablet: Browser):
    response = tablet.client.post("/orientation/tickets", json={"service": "ACTA",
                                                                "key": "tab-0005"})
    assert response.status_code == 403
    assert _issue(tablet, {"service": "ACTA", "key": "tab-0006"}).get_json()["number"] == "A-001"
