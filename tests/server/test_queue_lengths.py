"""The queue lengths SQLite's triggers keep (models.queue_length), which positions read."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
from alembic import command
from sqlalchemy import func, inspect, select

from server.context import Turnos
from server.extensions import ext
from server.migrate import alembic_config, upgrade
from server.models import Ticket
from server.models.queue_length import queue_lengths
from server.services import calling, issuing
from server.services.issuing import IssueRequest

T = Ticket.__table__.c


def issue(ctx: Turnos, service: str, preferential: str | None = None) -> int:
    result = issuing.issue_ticket(ctx, IssueRequest(service, preferential), caller="kiosk",
                                  key=uuid.uuid4().hex)
    return result.ticket.position


def kept(ctx: Turnos) -> Counter:
    with ctx.db.read() as conn:
        rows = conn.execute(select(queue_lengths)).all()
    return Counter({(r.service_code, r.day, r.preferential, r.front): r.waiting
                    for r in rows if r.waiting})


def counted(ctx: Turnos) -> Counter:
    with ctx.db.read() as conn:
        rows = conn.execute(
            select(T.service_code, T.day, T.preferential, T.front, func.count())
            .where(T.status == "waiting", T.target_counter_id.is_(None))
            .group_by(T.service_code, T.day, T.preferential, T.front)
        ).all()
    return Counter({tuple(r[:4]): r[4] for r in rows})


def test_issuing_and_calling_keep_the_lengths_equal_to_a_count_of_the_tickets(ctx: Turnos):
    assert [issue(ctx, "ACTA"), issue(ctx, "ACTA", "senior"), issue(ctx, "ACTA")] == [1, 1, 3]
    calling.call_next(ctx, "V17", actor="staff")
    assert kept(ctx) == counted(ctx)
    assert sum(kept(ctx).values()) == 2


def test_upgrading_a_database_with_waiting_tickets_counts_them_once(ctx: Turnos):
    for service, preferential in [("ACTA", None), ("ACTA", "senior"), ("ACTA", None),
                                  ("DEFUN", "pregnancy")]:
        issue(ctx, service, preferential)
    engine = ctx.db.engine
    command.downgrade(alembic_config(engine), "0008")
    assert "queue_lengths" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert kept(ctx) == counted(ctx)
    assert sum(kept(ctx).values()) == 4
    # And the triggers are back: the next ticket is fourth in the ACTA line.
    assert issue(ctx, "ACTA") == 4


@pytest.mark.postgres
def test_postgresql_has_no_queue_lengths_and_still_tells_places(make_app, postgres):
    url = postgres.create_database()
    try:
        ctx = ext(make_app(url)).ctx
        assert "queue_lengths" not in inspect(ctx.db.engine).get_table_names()
        assert [issue(ctx, "ACTA"), issue(ctx, "ACTA", "senior"), issue(ctx, "ACTA")] == [1, 1, 3]
        ctx.db.dispose()
    finally:
        postgres.drop_database(url)
