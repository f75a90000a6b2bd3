"""Receipts in a real Chromium against a real server: the counter shows the receipt's QR after
completing, the worker signs it in the background, and the verify page checks it by folio and
by upload. Screenshots go to $TURNOS_SCREENSHOTS (docs/screenshots when refreshing the docs)."""
# Fixtures imported from delivery_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from server.receipts.keys import PASSPHRASE_FILE
from tests.counter.conftest import sign_in
from tests.receipts.delivery_support import PASSPHRASE_ENV, test_keys, write_config  # noqa: F401
from tests.support.live_server import LiveServer, turnos

pytestmark = pytest.mark.slow

MONDAY_10AM = "2026-11-23T16:00:00Z"
PASSWORD = "ventanilla-17-segura"


@pytest.fixture
def server(tmp_path: Path, test_keys: Path) -> Iterator[tuple[LiveServer, str]]:
    """A live server whose receipts are signed by the test CA, a clerk and a kiosk token."""
    config = write_config(tmp_path, test_keys)
    url = f"sqlite:///{tmp_path / 'turnos.sqlite'}"
    kiosk = turnos("token", "create", "kiosk", "--role", "kiosk", database_url=url,
                   config=config).strip()
    turnos("staff", "add", "lucia", "--role", "counter", "--agency", "rc", "--name",
           "Lucía Pérez", "--password-stdin", database_url=url, config=config,
           input=PASSWORD + "\n")
    env = {"TURNOS_CLOCK_START": MONDAY_10AM,
           PASSPHRASE_ENV: (test_keys / PASSPHRASE_FILE).read_text().strip()}
    live = LiveServer(url, config=config, env=env, log_path=tmp_path / "server.log").start()
    yield live, kiosk
    live.stop()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Page]]:
    contexts: list[Any] = []

    def open_page(width: int = 1366, height: int = 900) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height},
                                      locale="es-MX")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _screenshot(page: Page, name: str, tmp_path: Path) -> None:
    directory = Path(os.environ.get("TURNOS_SCREENSHOTS", tmp_path))
    directory.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(directory / name), full_page=True)


def _signed(base_url: str, folio: str, timeout: float = 30.0) -> dict[str, Any]:
    """The receipt once the server's worker has signed it."""
    deadline = time.monotonic() + timeout
    while True:
        body = requests.get(f"{base_url}/api/v1/receipts/{folio}", timeout=10).json()
        if body["status"] != "pending" or time.monotonic() > deadline:
            return body
        time.sleep(0.2)


def _complete_at_the_counter(page: Page, live: LiveServer, kiosk: str) -> str:
    """Issue a ticket, and call, start and complete it on the terminal; the receipt folio."""
    requests.post(f"{live.url}/api/v1/tickets", json={"service": "ACTA"}, timeout=10,
                  headers={"Authorization": f"Bearer {kiosk}",
                           "Idempotency-Key": uuid.uuid4().hex}).raise_for_status()
    sign_in(page, live.url, "lucia", PASSWORD)
    page.goto(f"{live.url}/counter/V17")
    page.wait_for_selector("[data-live][data-status='live']")
    page.keyboard.press("n")
    expect(page.locator("body")).to_have_attribute("data-ticket-status", "called")
    page.keyboard.press("i")
    expect(page.locator("body")).to_have_attribute("data-ticket-status", "serving")
    page.keyboard.press("f")
    dialog = page.locator("dialog[data-dialog='complete']")
    dialog.locator("input[value='follow_up']").check()
    dialog.locator("input[name='folio']").fill("RC-2026-117")
    dialog.locator("button[value='ok']").click()
    expect(page.locator("[data-receipt]")).to_be_visible()
    return page.locator("[data-receipt-folio]").inner_text()


def test_the_counter_shows_the_receipt_qr_after_completing_and_prints_a_slip(
        server, new_page, tmp_path):
    live, kiosk = server
    page = new_page()
    folio = _complete_at_the_counter(page, live, kiosk)
    assert len(folio) == 19
    qr = page.locator("[data-receipt-qr]")
    expect(qr).to_have_attribute("src", f"/verify/{folio}/qr.svg")
    deadline = time.monotonic() + 15
    while not qr.evaluate("img => img.complete && img.naturalWidth > 0"):
        assert time.monotonic() < deadline, "the QR image never loaded"
        time.sleep(0.1)
    _screenshot(page, "counter-receipt.png", tmp_path)
    page.click("[data-print-slip]")
    expect(page.locator("[data-message]")).to_have_text("El talón se envió a la impresora.")
    slips = tmp_path / "instance" / "printers" / "pa-1.bin"
    deadline = time.monotonic() + 15
    while not (slips.exists() and folio.encode() in slips.read_bytes()):
        assert time.monotonic() < deadline, "the slip never reached the printer"
        time.sleep(0.2)
    # The server's worker signs it in the background.
    assert _signed(live.url, folio)["status"] == "valid"
    page.keyboard.press("n")  # nobody waits: the counter stays free and keeps the QR
    expect(page.locator("[data-receipt]")).to_be_visible()


def test_the_verify_page_checks_a_folio_and_uploaded_files(server, new_page, tmp_path):
    live, kiosk = server
    clerk = new_page()
    folio = _complete_at_the_counter(clerk, live, kiosk)
    assert _signed(live.url, folio)["status"] == "valid"
    pdf = requests.get(f"{live.url}/verify/{folio}/receipt.pdf", timeout=10).content

    page = new_page(412, 915)  # a phone, as after scanning the QR
    page.goto(f"{live.url}/verify/")
    expect(page.locator("h1")).to_have_text("Verificar un comprobante")
    page.fill("input[name=folio]", folio.lower().replace("-", " "))
    page.click("form.folio button")
    expect(page).to_have_url(f"{live.url}/verify/{folio}")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(page.locator(".verdict .headline")).to_have_text("Comprobante válido")
    expect(page.locator("[data-outcome]")).to_have_text("Requiere seguimiento")
    expect(page.locator("[data-signer]")).to_contain_text("CSA Centro Histórico")
    _screenshot(page, "verify-valid.png", tmp_path)
    with page.expect_download() as download:
        page.click("[data-download]")
    assert download.value.suggested_filename == f"comprobante-{folio}.pdf"

    page.goto(f"{live.url}/verify/")
    page.set_input_files("input[name=file]", {"name": "comprobante.pdf",
                                              "mimeType": "application/pdf", "buffer": pdf})
    page.click("form.upload button")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "valid")
    expect(page.locator(".verdict")).to_contain_text("Es idéntico a la copia")

    index = pdf.index(b"stream") + 200
    tampered = pdf[:index] + bytes([pdf[index] ^ 0x01]) + pdf[index + 1:]
    page.goto(f"{live.url}/verify/")
    page.set_input_files("input[name=file]", {"name": "comprobante.pdf",
                                              "mimeType": "application/pdf",
                                              "buffer": tampered})
    page.click("form.upload button")
    expect(page.locator("[data-verdict]")).to_have_attribute("data-verdict", "tampered")
    expect(page.locator(".verdict .headline")).to_have_text("Comprobante alterado")
    _screenshot(page, "verify-tampered.png", tmp_path)


def test_an_unknown_folio_shows_a_readable_page(server, new_page):
    live, _ = server
    page = new_page(412, 915)
    response = page.goto(f"{live.url}/verify/R7K2-9QXM-4TPD-H3WN")
    assert response.status == 404
    expect(page.locator(".verdict .headline")).to_have_text("Comprobante no encontrado")
