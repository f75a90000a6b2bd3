"""`turnos receipts sign --day`: produces a day's receipts in worker processes, resumes where
it stopped, and signs again with --force."""
# Fixtures imported from delivery_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import subprocess

from server.services import receipts
from server.services.receipt_worker import ReceiptWorker
from tests.receipts.delivery_support import (  # noqa: F401  (fixtures, used by name)
    app,
    complete,
    receipts_setup,
    serve_ticket,
    test_keys,
)
from tests.support.live_server import turnos

DAY = "2026-11-23"


def _complete_tickets(client, auth, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        ticket_id = serve_ticket(client, auth)
        complete(client, auth, ticket_id)
        ids.append(ticket_id)
    return ids


def _sign(receipts_setup, sqlite_url, *args: str) -> str:
    return turnos("receipts", "sign", "--day", DAY, *args, database_url=sqlite_url,
                  config=receipts_setup.config, env=receipts_setup.env)


def test_the_batch_signs_every_receipt_of_the_day_in_two_processes(
        ctx, client, auth, receipts_setup, sqlite_url):
    ids = _complete_tickets(client, auth, 5)
    out = _sign(receipts_setup, sqlite_url, "--processes", "2")
    assert f"{DAY}: 5 receipts to sign (5 signed)" in out
    for ticket_id in ids:
        receipt = receipts.for_ticket(ctx, ticket_id)
        assert receipt.status == "signed"
        assert receipts.read_pdf(ctx.config, receipt).intact
    assert client.get(f"/api/v1/receipts/{receipt.folio}").get_json()["status"] == "valid"


def test_the_batch_resumes_and_skips_what_is_already_signed(
        ctx, client, auth, receipts_setup, sqlite_url):
    ids = _complete_tickets(client, auth, 3)
    worker = ReceiptWorker(ctx)
    with ctx.db.read() as conn:
        from sqlalchemy import select

        from server.models import Receipt
        first = conn.execute(select(Receipt.__table__).where(Receipt.ticket_id == ids[0])).one()
    assert worker.sign(first).status == "signed"
    before = receipts.for_ticket(ctx, ids[0]).sha256
    assert f"{DAY}: 2 receipts to sign (2 signed)" in _sign(receipts_setup, sqlite_url)
    assert f"{DAY}: 0 receipts to sign" in _sign(receipts_setup, sqlite_url)
    assert receipts.for_ticket(ctx, ids[0]).sha256 == before


def test_force_signs_the_day_again(ctx, client, auth, receipts_setup, sqlite_url):
    ids = _complete_tickets(client, auth, 2)
    _sign(receipts_setup, sqlite_url, "--processes", "1")
    hashes = [receipts.for_ticket(ctx, i).sha256 for i in ids]
    assert f"{DAY}: 2 receipts to sign (2 signed)" in _sign(receipts_setup, sqlite_url, "--force")
    again = [receipts.for_ticket(ctx, i) for i in ids]
    assert all(r.status == "signed" and receipts.read_pdf(ctx.config, r).intact for r in again)
    assert [r.sha256 for r in again] != hashes


def test_another_day_has_nothing_to_sign(client, auth, receipts_setup, sqlite_url):
    _complete_tickets(client, auth, 1)
    out = turnos("receipts", "sign", "--day", "2026-11-24", database_url=sqlite_url,
                 config=receipts_setup.config, env=receipts_setup.env)
    assert "2026-11-24: 0 receipts to sign" in out


def test_a_bad_day_is_refused_with_a_message(receipts_setup, sqlite_url):
    try:
        turnos("receipts", "sign", "--day", "23/11/2026", database_url=sqlite_url,
               config=receipts_setup.config, env=receipts_setup.env)
    except subprocess.CalledProcessError as error:
        assert error.returncode == 2
        assert "23/11/2026" in error.stderr and "Traceback" not in error.stderr
    else:
        raise AssertionError("a malformed day was accepted")
