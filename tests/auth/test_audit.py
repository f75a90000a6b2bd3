"""The audit log: who did what and when, in a hash chain that shows any change or deletion."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import delete, func, select, text, update

from server.auth import audit
from server.extensions import ext
from server.models import AuditEntry, AuditHead
from server.services import tokens


@pytest.fixture
def ctx(make_app, database_url):
    """Every test here runs on SQLite and on PostgreSQL."""
    return ext(make_app(database_url)).ctx


def _record(ctx, n: int, **fields) -> None:
    for i in range(n):
        with ctx.db.write() as conn:
            audit.record(conn, actor="ana", role="counter", action="ticket.called",
                         target=f"A-{i + 1:03}", counter_id="V17", device="10.0.0.7",
                         details={"note": "en ventanilla", "i": i}, now=ctx.clock.now(),
                         **fields)


def test_an_entry_says_who_did_what_where_and_when_in_utc(ctx, clock):
    with ctx.db.write() as conn:
        seq = audit.record(conn, actor="ana", role="counter", action="ticket.recalled",
                           target="A-007", counter_id="V17", device="10.0.0.7",
                           details={"recalls": 2}, now=clock.now())
    entry = audit.recent(ctx, limit=1)[0]
    assert entry.seq == seq
    assert (entry.actor, entry.role, entry.action, entry.target, entry.counter_id,
            entry.device, entry.details) == ("ana", "counter", "ticket.recalled", "A-007",
                                             "V17", "10.0.0.7", {"recalls": 2})
    assert entry.at == clock.now() and entry.at.utcoffset().total_seconds() == 0


def test_an_intact_log_verifies(ctx):
    _record(ctx, 5)
    assert audit.verify(ctx) == []
    assert audit.head(ctx)[0] == 5


def test_an_empty_log_verifies(ctx):
    assert audit.verify(ctx) == []


def test_changing_one_entrys_details_is_detected_at_that_entry(ctx):
    _record(ctx, 5)
    with ctx.db.write() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3)
                     .values(details={"note": "otra cosa", "i": 2}))
    problems = audit.verify(ctx)
    assert [p.seq for p in problems] == [3]
    assert "altered" in problems[0].message


@pytest.mark.parametrize("column, value", [
    ("actor", "beto"), ("action", "ticket.completed"), ("counter_id", "V18"),
    ("at", "2026-11-23 15:00:00.000000"),
])
def test_changing_any_field_is_detected(ctx, column, value):
    _record(ctx, 3)
    with ctx.db.write() as conn:
        conn.execute(text(f"UPDATE audit_entries SET {column} = :value WHERE seq = 2"),
                     {"value": value})
    assert [p.seq for p in audit.verify(ctx)] == [2]


def test_rewriting_an_entry_with_a_fresh_hash_is_detected_at_the_next_one(ctx):
    _record(ctx, 4)
    with ctx.db.read() as conn:
        row = conn.execute(select(AuditEntry.__table__).where(AuditEntry.seq == 2)).one()
    forged = {**row._asdict(), "actor": "beto"}
    forged["hash"] = audit.entry_hash(forged, row.prev_hash)
    with ctx.db.write() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 2)
                     .values(actor="beto", hash=forged["hash"]))
    problems = audit.verify(ctx)
    assert [p.seq for p in problems] == [3]


def test_deleting_an_entry_is_detected_naming_the_missing_seq(ctx):
    _record(ctx, 5)
    with ctx.db.write() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    problems = audit.verify(ctx)
    assert problems[0].seq == 2
    assert "missing" in problems[0].message


def test_deleting_the_newest_entry_is_detected_through_the_head(ctx):
    _record(ctx, 5)
    with ctx.db.write() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 5))
    problems = audit.verify(ctx)
    assert [p.seq for p in problems] == [5]
    assert "missing" in problems[0].message


def test_concurrent_writers_keep_one_unbroken_chain(ctx):
    def write_some(worker: int) -> None:
        for i in range(10):
            with ctx.db.write() as conn:
                audit.record(conn, actor=f"worker-{worker}", role="counter",
                             action="ticket.called", target=str(i), now=ctx.clock.now())

    threads = [threading.Thread(target=write_some, args=(w,)) for w in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert audit.verify(ctx) == []
    with ctx.db.read() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEntry)).scalar() == 60
        assert conn.execute(select(AuditHead.seq)).scalar() == 60


def test_an_entry_rolled_back_with_its_transaction_leaves_no_gap(ctx):
    _record(ctx, 2)
    with pytest.raises(RuntimeError), ctx.db.write() as conn:
        audit.record(conn, actor="ana", role="counter", action="ticket.called",
                     now=ctx.clock.now())
        raise RuntimeError("the action failed")
    _record(ctx, 1)
    assert audit.verify(ctx) == []
    assert audit.head(ctx)[0] == 3


def test_creating_and_revoking_a_token_are_audited(ctx):
    tokens.create_token(ctx, "kiosk-9", "kiosk", actor="cli")
    tokens.revoke_token(ctx, "kiosk-9", actor="root", actor_role="admin")
    revoked, created = audit.recent(ctx, limit=2)
    assert (created.action, created.actor, created.target, created.details) == (
        "token.created", "cli", "kiosk-9", {"role": "kiosk"})
    assert (revoked.action, revoked.actor, revoked.role) == ("token.revoked", "root", "admin")
