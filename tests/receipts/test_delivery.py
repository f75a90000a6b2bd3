"""Receipts from completion to storage: recorded with the completion, signed by the worker
outside the request, stored with their hash, retried, expired, printed as a slip."""
# Fixtures imported from delivery_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import select

from server.domain.receipt_folio import ALPHABET, new_folio, normalize_folio
from server.extensions import ext
from server.models import PrintJob
from server.services import receipts
from server.services.print_worker import worker_of as print_worker_of
from server.services.printing import render_job
from server.services.receipt_worker import MAX_ATTEMPTS, ReceiptWorker, make_signer, worker_of
from tests.auth.conftest import make_account, new_browser, signed_in  # noqa: F401
from tests.receipts.delivery_support import (  # noqa: F401  (fixtures, used by name)
    app,
    complete,
    receipts_setup,
    serve_ticket,
    test_keys,
)

# --- folios ---------------------------------------------------------------------------------

def test_a_folio_is_four_groups_of_crockford_base32():
    folio = new_folio()
    groups = folio.split("-")
    assert [len(g) for g in groups] == [4, 4, 4, 4]
    assert all(c in ALPHABET for c in "".join(groups))


def test_folios_do_not_repeat():
    assert len({new_folio() for _ in range(2000)}) == 2000


def test_a_folio_typed_loosely_is_understood():
    assert normalize_folio("r7k2 9qxm-4tpd h3wn") == "R7K2-9QXM-4TPD-H3WN"
    # O and I/L read off paper are the digits they look like.
    assert normalize_folio("ROK2-9QXM-4TPD-H3WL") == "R0K2-9QXM-4TPD-H3W1"


@pytest.mark.parametrize("typed", ["", "R7K2-9QXM-4TPD", "R7K2-9QXM-4TPD-H3WU", "x" * 500])
def test_what_cannot_be_a_folio_is_refused(typed):
    assert normalize_folio(typed) is None


# --- recording and signing ------------------------------------------------------------------

def test_completing_a_ticket_records_a_pending_receipt_and_signs_nothing_yet(
        ctx, client, auth, receipts_setup):
    ticket_id = serve_ticket(client, auth)
    assert complete(client, auth, ticket_id).status_code == 200
    receipt = receipts.for_ticket(ctx, ticket_id)
    assert receipt is not None and receipt.status == "pending"
    assert receipt.counter_id == "V17" and receipt.day.isoformat() == "2026-11-23"
    assert not receipts_setup.storage.exists() or not any(receipts_setup.storage.rglob("*.pdf"))


def test_other_endings_make_no_receipt(ctx, client, auth):
    ticket = client.post("/api/v1/tickets", json={"service": "ACTA"},
                         headers=auth.issuing()).get_json()
    client.post(f"/api/v1/tickets/{ticket['id']}/cancel", headers=auth("staff"))
    assert receipts.for_ticket(ctx, ticket["id"]) is None


def test_the_worker_signs_the_receipt_and_stores_it_with_its_hash(
        app, ctx, client, auth, receipts_setup):
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    outcomes = worker_of(app).pump()
    assert [o.status for o in outcomes] == ["signed"]
    receipt = receipts.for_ticket(ctx, ticket_id)
    assert receipt.status == "signed"
    files = list(receipts_setup.storage.rglob("*.pdf"))
    assert [f.name for f in files] == [f"{receipt.folio}.pdf"]
    data = files[0].read_bytes()
    assert hashlib.sha256(data).hexdigest() == receipt.sha256
    assert receipt.size_bytes == len(data)
    assert data.startswith(b"%PDF") and receipt.folio.encode() in data
    assert worker_of(app).pump() == []


def test_the_download_is_the_stored_pdf_with_a_filename_and_cache_headers(
        app, ctx, client, auth):
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    worker_of(app).pump()
    receipt = receipts.for_ticket(ctx, ticket_id)
    response = client.get(f"/verify/{receipt.folio}/receipt.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="comprobante-{receipt.folio}.pdf"')
    assert "max-age=" in response.headers["Cache-Control"]
    assert hashlib.sha256(response.data).hexdigest() == receipt.sha256
    again = client.get(f"/verify/{receipt.folio}/receipt.pdf",
                       headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_complete_call_does_not_wait_for_a_signature_in_progress(
        app, ctx, client, auth):
    """The worker is stuck signing one receipt; completing another ticket answers at once."""
    release, signing = threading.Event(), threading.Event()
    real = make_signer(ctx.config)

    class SlowSigner:
        def sign_receipt(self, content):
            signing.set()
            release.wait(20)
            return real.sign_receipt(content)

    worker = ReceiptWorker(ctx, signer_factory=lambda config: SlowSigner())
    complete(client, auth, serve_ticket(client, auth))
    thread = threading.Thread(target=worker.pump)
    thread.start()
    try:
        assert signing.wait(20)
        second = serve_ticket(client, auth)
        started = time.perf_counter()
        assert complete(client, auth, second).status_code == 200
        assert time.perf_counter() - started < 2.0
        assert receipts.for_ticket(ctx, second).status == "pending"
    finally:
        release.set()
        thread.join(30)
    assert receipts.counts(ctx) == {"signed": 1, "pending": 1}


def test_a_receipt_that_cannot_be_signed_is_retried_then_marked_failed(
        ctx, client, auth, clock):
    def broken(config):
        raise RuntimeError("the key is not there")

    worker = ReceiptWorker(ctx, signer_factory=broken)
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    first = worker.pump()
    assert [o.status for o in first] == ["pending"]
    assert worker.pump() == []  # waiting for its retry
    for _ in range(MAX_ATTEMPTS - 1):
        clock.advance(minutes=11)
        worker.pump()
    receipt = receipts.for_ticket(ctx, ticket_id)
    assert receipt.status == "failed" and receipt.attempts == MAX_ATTEMPTS
    assert "the key is not there" in receipt.last_error


def test_receipts_past_their_retention_are_deleted_and_the_page_says_expired(
        app, ctx, client, auth, clock, receipts_setup):
    ticket_id = serve_ticket(client, auth)
    complete(client, auth, ticket_id)
    worker_of(app).pump()
    receipt = receipts.for_ticket(ctx, ticket_id)
    path = next(receipts_setup.storage.rglob("*.pdf"))
    clock.advance(days=364)
    assert receipts.sweep_expired(ctx) == 0 and path.exists()
    clock.advance(days=2)
    assert receipts.sweep_expired(ctx) == 1
    assert not path.exists()
    expired = receipts.for_ticket(ctx, ticket_id)
    assert expired.status == "expired" and expired.sha256 == receipt.sha256
    page = client.get(f"/verify/{receipt.folio}")
    assert page.status_code == 200
    assert "Comprobante vencido" in page.get_data(as_text=True)
    assert "RC-2026-117" not in page.get_data(as_text=True)  # contents go with the file
    assert client.get(f"/verify/{receipt.folio}/receipt.pdf").status_code == 404
    assert client.get(f"/api/v1/receipts/{receipt.folio}").get_json()["status"] == "expired"


# --- the follow page and the counter ---------------------------------------------------------

def test_the_follow_page_offers_the_receipt_once_it_is_signed(app, ctx, client, auth):
    ticket_id = serve_ticket(client, auth)
    token = client.get(f"/api/v1/tickets/{ticket_id}", headers=auth("staff")).get_json()[
        "follow_url"].rsplit("/", 1)[1]
    assert client.get(f"/t/{token}.json").get_json()["receipt"] is None
    complete(client, auth, ticket_id)
    assert client.get(f"/t/{token}.json").get_json()["receipt"]["status"] == "pending"
    assert "Su comprobante firmado se está preparando" in client.get(f"/t/{token}").get_data(
        as_text=True)
    worker_of(app).pump()
    folio = receipts.for_ticket(ctx, ticket_id).folio
    state = client.get(f"/t/{token}.json").get_json()["receipt"]
    assert state == {"status": "signed", "verify_url": f"/verify/{folio}",
                     "download_url": f"/verify/{folio}/receipt.pdf"}
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert f'href="/verify/{folio}/receipt.pdf"' in page


@pytest.fixture
def clerk(ctx, new_browser):
    make_account(ctx, "lucia", role="counter", agency="rc", display_name="Lucía Pérez")
    return signed_in(new_browser, "lucia")


def _post(browser, path: str):
    return browser.client.post(path, json={}, headers={"X-CSRF-Token": browser.csrf_token()})


def test_the_counter_shows_its_last_receipt_until_it_calls_again(ctx, client, auth, clerk):
    ticket_id = serve_ticket(client, auth)
    assert clerk.get("/counter/V17/state").get_json()["receipt"] is None
    client.post("/api/v1/tickets", json={"service": "ACTA"}, headers=auth.issuing())
    state = _post(clerk, "/counter/V17/ticket/complete").get_json()
    folio = receipts.for_ticket(ctx, ticket_id).folio
    assert state["receipt"] == {
        "folio": folio, "status": "pending", "verify_url": f"http://127.0.0.1:8000/verify/{folio}",
        "qr_url": f"/verify/{folio}/qr.svg", "can_print": True,
    }
    qr = client.get(state["receipt"]["qr_url"])
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert _post(clerk, "/counter/V17/call-next").get_json()["receipt"] is None


def test_the_counter_prints_a_slip_with_the_folio_and_qr_at_its_printer(
        app, ctx, client, auth, clerk):
    ticket_id = serve_ticket(client, auth)
    _post(clerk, "/counter/V17/ticket/complete")
    response = _post(clerk, "/counter/V17/receipt/print-slip")
    assert response.status_code == 200
    with ctx.db.read() as conn:
        job = conn.execute(select(PrintJob.__table__)).one()
    assert (job.kind, job.printer_id, job.ticket_id) == ("slip", "pa-1", ticket_id)
    folio = receipts.for_ticket(ctx, ticket_id).folio
    data = render_job(ctx.config, ctx.config.printer("pa-1"), job.kind, job.payload)
    assert folio.encode() in data
    assert f"/verify/{folio}".encode() in data  # the QR's content and the printed address
    assert "Folio del comprobante".encode("cp1252") in data
    # The kiosk's print worker sends it like any ticket.
    outcomes = print_worker_of(app).pump(check_idle=False)
    assert [(o.job_id, o.status) for o in outcomes] == [(job.id, "printed")]


def test_a_slip_without_a_recent_receipt_is_refused_with_a_reason(clerk):
    response = _post(clerk, "/counter/V17/receipt/print-slip")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_receipt"


def test_receipt_storage_is_the_configured_directory(app, receipts_setup):
    assert receipts.storage_root(ext(app).ctx.config) == receipts_setup.storage
