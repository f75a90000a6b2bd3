"""Many counters racing for the same queue never take the same ticket (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from flask import Flask

from server.extensions import ext
from server.services import issuing
from tests.conftest import Auth

RACE_CONFIG = Path(__file__).resolve().parent.parent / "fixtures" / "race.toml"
TICKETS = 1_000
COUNTERS = 20
WORKERS = 50


def test_twenty_counters_and_fifty_workers_call_every_ticket_exactly_once(
    make_app: Callable[..., Flask], database_url: str
):
    app = make_app(database_url, config_path=RACE_CONFIG)
    ctx = ext(app).ctx
    auth = Auth(ctx)
    for n in range(TICKETS):
        service = "ACTA" if n % 3 else "MATRI"
        preferential = "senior" if n % 7 == 0 else None
        issuing.issue_ticket(ctx, issuing.IssueRequest(service, preferential),
                             caller="race", key=uuid.uuid4().hex)

    called: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(WORKERS)

    def worker(index: int) -> None:
        # Two or three workers share each counter, so both kinds of race happen:
        # several counters for one ticket, and several staff at one counter.
        counter = f"C{index % COUNTERS + 1:02d}"
        client = app.test_client()
        headers = auth("staff")
        start.wait()
        while True:
            response = client.post(f"/api/v1/counters/{counter}/call-next", headers=headers)
            if response.status_code == 204:
                return
            error = (response.get_json() or {}).get("error", {})
            if response.status_code == 409 and error.get("code") == "counter_busy":
                # The other clerk at this counter holds a ticket; try again as a person would.
                time.sleep(0.005)
                continue
            if response.status_code != 200:
                with lock:
                    errors.append(f"call-next {response.status_code} {response.get_data()!r}")
                return
            ticket_id = response.get_json()["id"]
            with lock:
                called.append(ticket_id)
            for action in ("start", "complete"):
                done = client.post(f"/api/v1/tickets/{ticket_id}/{action}", headers=headers)
                if done.status_code != 200:
                    with lock:
                        errors.append(f"{action} {done.status_code} {done.get_data(as_text=True)}")
                    return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    duplicates = [ticket for ticket, times in Counter(called).items() if times > 1]
    assert duplicates == []
    assert len(called) == TICKETS
    queues = app.test_client().get("/api/v1/queues").get_json()["queues"]
    assert sum(q["waiting"] for q in queues) == 0
