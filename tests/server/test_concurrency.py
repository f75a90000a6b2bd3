"""Many counters racing for the same queue never take the same ticket (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask

from server.extensions import ext
from server.services import issuing
from tests.conftest import Auth
from tests.support.race import Post, race_counters

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

    @contextmanager
    def caller() -> Iterator[Post]:
        client = app.test_client()
        headers = auth("staff")

        def post(path: str) -> tuple[int, dict, str]:
            response = client.post(path, headers=headers)
            return (response.status_code, response.get_json(silent=True) or {},
                    response.get_data(as_text=True))

        yield post

    called, errors = race_counters(caller, callers=WORKERS, counters=COUNTERS,
                                   busy_retry_seconds=0.005)

    assert errors == []
    duplicates = [ticket for ticket, times in Counter(called).items() if times > 1]
    assert duplicates == []
    assert len(called) == TICKETS
    queues = app.test_client().get("/api/v1/queues").get_json()["queues"]
    assert sum(q["waiting"] for q in queues) == 0
