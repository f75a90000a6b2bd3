"""A live server signs receipts in a child process (a signature is ~10 ms of pure CPU that
would hold up the server's event loop), which ends with the server; and the child's protocol:
a receipt in, its signed PDF or what went wrong out."""
# Fixtures imported from delivery_support are parameters of the tests below.
# ruff: noqa: F811

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import requests

from server.config import load_config
from server.receipts.keys import PASSPHRASE_FILE
from server.receipts.verification import load_trust_roots, verify_pdf
from server.services.signing_process import SigningFailed, SigningProcess
from tests.receipts.core_support import receipt
from tests.receipts.delivery_support import PASSPHRASE_ENV, test_keys, write_config  # noqa: F401
from tests.support.live_server import LiveServer, turnos

pytestmark = pytest.mark.slow

MONDAY_10AM = "2026-11-23T16:00:00Z"


def signing_processes(server_pid: int) -> list[int]:
    """Children of the server running server.services.signing_process."""
    return [pid for pid in _children(server_pid)
            if b"server.services.signing_process" in _read_bytes(f"/proc/{pid}/cmdline")]


def _children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        # A thread that ends while we list them takes its /proc entry with it.
        children += [int(child) for child in _read_bytes(task / "children").split()]
    return children


def _read_bytes(path) -> bytes:
    """The file's content, or nothing when its process or thread has just gone."""
    try:
        return Path(path).read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return b""


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] not in "ZX"
    except FileNotFoundError:
        return False


def until(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.1)
    return result


def test_a_live_server_signs_receipts_in_a_process_that_ends_with_it(tmp_path, test_keys):
    config = write_config(tmp_path, test_keys)
    url = f"sqlite:///{tmp_path / 'turnos.sqlite'}"
    kiosk, staff = (turnos("token", "create", role, "--role", role, database_url=url,
                           config=config).strip() for role in ("kiosk", "staff"))
    env = {"TURNOS_CLOCK_START": MONDAY_10AM,
           PASSPHRASE_ENV: (test_keys / PASSPHRASE_FILE).read_text().strip()}
    live = LiveServer(url, config=config, env=env, log_path=tmp_path / "server.log").start()
    try:
        assert live.process is not None
        ticket = requests.post(f"{live.url}/api/v1/tickets", json={"service": "ACTA"},
                               headers={"Authorization": f"Bearer {kiosk}",
                                        "Idempotency-Key": uuid.uuid4().hex}, timeout=10).json()
        as_staff = {"Authorization": f"Bearer {staff}"}
        called = requests.post(f"{live.url}/api/v1/counters/V17/call-next", headers=as_staff,
                               timeout=10)
        assert called.json()["id"] == ticket["id"]
        for action in ("start", "complete"):
            answer = requests.post(f"{live.url}/api/v1/tickets/{ticket['id']}/{action}",
                                   json={"outcome": "resolved"} if action == "complete" else {},
                                   headers=as_staff, timeout=10)
            assert answer.status_code == 200, answer.text
        follow_json = ticket["follow_url"].rstrip("/") + ".json"
        follow_json = live.url + "/t/" + follow_json.rsplit("/t/", 1)[1]

        def signed_receipt():
            receipt = requests.get(follow_json, timeout=10).json()["receipt"]
            return receipt if receipt and receipt["status"] == "signed" else None

        receipt = until(signed_receipt)
        assert receipt is not None, live.log()
        pdf = requests.get(live.url + receipt["download_url"], timeout=10)
        assert pdf.content.startswith(b"%PDF-")
        signers = signing_processes(live.process.pid)
        assert len(signers) == 1, live.log()
    finally:
        live.stop()

    assert until(lambda: not alive(signers[0]), timeout=10), "it outlived the server"


def test_the_signing_process_answers_a_receipt_with_its_signed_pdf(tmp_path, test_keys,
                                                                   monkeypatch):
    monkeypatch.setenv(PASSPHRASE_ENV, (test_keys / PASSPHRASE_FILE).read_text().strip())
    process = SigningProcess(write_config(tmp_path, test_keys))
    try:
        first, second = (process.sign_receipt(receipt(receipt_folio=folio))
                         for folio in ("CSA-AAAA-0001", "CSA-AAAA-0002"))
        pid = process.pid
    finally:
        process.close()

    trust = load_trust_roots(load_config(tmp_path / "config.toml").receipts)
    assert [verify_pdf(pdf, trust).receipt_folio for pdf in (first, second)] == [
        "CSA-AAAA-0001", "CSA-AAAA-0002"]
    assert all(verify_pdf(pdf, trust).status == "valid" for pdf in (first, second))
    assert pid is not None and not alive(pid)


def test_a_signing_process_without_its_keys_says_why_for_each_receipt(tmp_path, test_keys,
                                                                       monkeypatch):
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    process = SigningProcess(write_config(tmp_path, test_keys))
    try:
        for _ in range(2):
            with pytest.raises(SigningFailed, match=PASSPHRASE_ENV):
                process.sign_receipt(receipt())
    finally:
        process.close()
