"""A server killed with SIGKILL mid-load loses no confirmed ticket and reissues no number."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from pathlib import Path

import pytest
import requests

from tests.support.live_server import LiveServer, database_with_tokens

ISSUES = 500
KILL_AFTER = 200
THREADS = 8


@pytest.mark.slow
def test_every_ticket_confirmed_before_a_sigkill_survives_the_restart(tmp_path: Path):
    database_url, tokens = database_with_tokens(tmp_path, "kiosk", "staff")
    kiosk, staff = tokens["kiosk"], tokens["staff"]
    server = LiveServer(database_url).start()
    confirmed: list[dict] = []
    lock = threading.Lock()
    killed = threading.Event()
    services = ["ACTA", "TENENCIA", "LIC-RENOV", "AGUA-PAGO"]

    def issue(worker: int) -> None:
        session = requests.Session()
        for n in range(worker, ISSUES, THREADS):
            try:
                response = session.post(
                    f"{server.url}/api/v1/tickets",
                    json={"service": services[n % len(services)]},
                    headers={"Authorization": f"Bearer {kiosk}",
                             "Idempotency-Key": uuid.uuid4().hex},
                    timeout=10,
                )
            except requests.RequestException:
                # Killed mid-answer (refused, reset, or a body cut short): not confirmed.
                return
            if response.status_code == 201:
                with lock:
                    confirmed.append(response.json())
                    if len(confirmed) == KILL_AFTER:
                        server.kill()
                        killed.set()

    threads = [threading.Thread(target=issue, args=(i,)) for i in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert killed.is_set(), "the server was not killed mid-load"
        assert KILL_AFTER <= len(confirmed) < ISSUES

        server = LiveServer(database_url, port=server.port).start()
        session = requests.Session()
        headers = {"Authorization": f"Bearer {staff}"}
        for ticket in confirmed:
            stored = session.get(f"{server.url}/api/v1/tickets/{ticket['id']}", headers=headers)
            assert stored.status_code == 200, ticket
            assert stored.json()["number"] == ticket["number"]
            assert stored.json()["service"] == ticket["service"]

        # Issuing after the restart continues the numbering instead of reusing numbers.
        after = session.post(f"{server.url}/api/v1/tickets", json={"service": "ACTA"},
                             headers={"Authorization": f"Bearer {kiosk}",
                                      "Idempotency-Key": uuid.uuid4().hex})
        assert after.status_code == 201
        numbers = [(t["service"], t["number"]) for t in confirmed]
        numbers.append(("ACTA", after.json()["number"]))
        assert [n for n, times in Counter(numbers).items() if times > 1] == []
    finally:
        server.stop()
