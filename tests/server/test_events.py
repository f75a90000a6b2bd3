"""The event log's seq: what `append` publishes is what it stored, gap-free, in commit order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import select

from server.context import Turnos
from server.extensions import ext
from server.models import Event
from server.services import events

AT = dt.datetime(2026, 11, 23, 16, 0, tzinfo=dt.UTC)


@pytest.fixture
def turnos(make_app: Callable[..., Flask], database_url: str) -> Turnos:
    return ext(make_app(database_url)).ctx


def _draft(kind: str) -> events.EventDraft:
    return events.EventDraft(type=kind, at=AT, ticket_id=None, service_code="ACTA",
                             counter_id=None, actor="test", payload={"kind": kind})


def _append(turnos: Turnos, *kinds: str) -> list[events.PublishedEvent]:
    with turnos.db.write() as conn:
        return events.append(conn, [_draft(kind) for kind in kinds])


def _stored(turnos: Turnos) -> list[tuple[int, str]]:
    with turnos.db.read() as conn:
        return [tuple(row) for row in conn.execute(
            select(Event.seq, Event.type).order_by(Event.seq)).all()]


def test_each_event_is_published_under_the_seq_it_is_stored_with_one_after_the_last(
    turnos: Turnos,
):
    start = _stored(turnos)[-1][0] if _stored(turnos) else 0

    published = [*_append(turnos, "one"), *_append(turnos, "two", "three"),
                 *_append(turnos, "four")]

    assert [(e.seq, e.type) for e in published] == [
        (start + 1, "one"), (start + 2, "two"), (start + 3, "three"), (start + 4, "four")]
    assert _stored(turnos)[-4:] == [(e.seq, e.type) for e in published]
    with turnos.db.read() as conn:
        assert events.current_seq(conn) == start + 4


def test_a_write_that_fails_after_its_event_leaves_no_gap_before_the_next(turnos: Turnos):
    before = _append(turnos, "kept")[0].seq

    with pytest.raises(RuntimeError), turnos.db.write() as conn:
        events.append(conn, [_draft("undone")])
        raise RuntimeError("the rest of the write failed")

    after = _append(turnos, "next")[0].seq
    assert after == before + 1
    assert "undone" not in [kind for _, kind in _stored(turnos)]
