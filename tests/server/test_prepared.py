"""Prepared statements give the same rows, types and errors as Connection.execute."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.exc import (
    IntegrityError,
    MultipleResultsFound,
    NoResultFound,
    StatementError,
)

from server.db import Database
from server.migrate import upgrade
from server.models import Event, Ticket
from server.prepared import Prepared, Rows

NOON = dt.datetime(2026, 11, 23, 18, 0, 0, 123456, tzinfo=dt.UTC)
T = Ticket.__table__.c


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    with database.write() as conn:
        conn.execute(insert(Ticket.__table__.metadata.tables["agencies"]).values(
            id="civil", name="Registro Civil", order="municipal"))
        conn.execute(insert(Ticket.__table__.metadata.tables["services"]).values(
            code="ACTA", prefix="A", name="Actas", agency_id="civil"))
    yield database
    database.dispose()


_INSERT = Prepared(insert(Ticket.__table__).returning(*Ticket.__table__.c))
_BY_SERVICE = Prepared(select(T.id, T.number, T.preferential, T.issued_at, T.day)
                       .where(T.service_code == bindparam("service")).order_by(T.id))
_PICK = Prepared(select(T.number).where(T.id.in_(bindparam("ids", expanding=True))))
_CALL = Prepared(update(Ticket.__table__).where(T.id == bindparam("ticket_id_"))
                 .values(status="called", counter_id=None))


def _ticket(sequence: int, **overrides) -> dict:
    # status, preferential, front and the counts are left to the columns' defaults.
    return {"follow_token": f"token-{sequence}", "service_code": "ACTA",
            "issued_service_code": "ACTA", "day": NOON.date(), "sequence": sequence,
            "number": f"A-{sequence:03d}", "issued_at": NOON, "queued_at": NOON,
            "preferential_reason": None, **overrides}


def test_rows_carry_the_models_types_and_the_columns_defaults(db: Database):
    with db.write() as conn:
        row = _INSERT.execute(conn, _ticket(1)).one()
    assert row.status == "waiting" and row.preferential is False and row.front is False
    assert row.recall_count == 0 and row.transfer_count == 0
    assert row.issued_at == NOON and row.issued_at.tzinfo is not None
    assert row.day == NOON.date() and row.called_at is None
    with db.read() as conn:
        plain = conn.execute(_BY_SERVICE.statement, {"service": "ACTA"}).all()
        prepared = _BY_SERVICE.execute(conn, {"service": "ACTA"}).all()
    assert [tuple(r) for r in prepared] == [tuple(r) for r in plain]
    assert prepared[0].number == "A-001"


def test_json_and_naive_datetimes_go_through_the_models_type_processors(db: Database):
    insert_event = Prepared(insert(Event.__table__))
    with db.write() as conn:
        insert_event.execute(conn, {"seq": 1, "type": "ticket.issued", "at": NOON,
                                    "ticket_id": None, "service_code": "ACTA",
                                    "counter_id": None, "actor": "kiosk",
                                    "payload": {"ticket": {"number": "A-001"}}})
    with db.read() as conn:
        stored = conn.execute(select(Event.payload, Event.at)).one()
    assert stored.payload == {"ticket": {"number": "A-001"}} and stored.at == NOON
    with pytest.raises(StatementError, match="naive"), db.write() as conn:
        _INSERT.execute(conn, _ticket(2, issued_at=NOON.replace(tzinfo=None)))


def test_one_and_scalar_one_refuse_zero_or_several_rows(db: Database):
    with db.write() as conn:
        _INSERT.execute(conn, _ticket(1))
        _INSERT.execute(conn, _ticket(2))
    with db.read() as conn:
        with pytest.raises(MultipleResultsFound):
            _BY_SERVICE.execute(conn, {"service": "ACTA"}).one()
        with pytest.raises(NoResultFound):
            _BY_SERVICE.execute(conn, {"service": "NONE"}).scalar_one()
        assert _BY_SERVICE.execute(conn, {"service": "NONE"}).first() is None


def test_statements_it_cannot_shortcut_still_run(db: Database):
    with db.write() as conn:
        first = _INSERT.execute(conn, _ticket(1)).one()
        _INSERT.execute(conn, _ticket(2))
        picked = _PICK.execute(conn, {"ids": [first.id]}).scalars().all()
    assert picked == ["A-001"]


def test_an_update_reports_the_rows_it_changed(db: Database):
    with db.write() as conn:
        row = _INSERT.execute(conn, _ticket(1)).one()
    with pytest.raises(IntegrityError), db.write() as conn:
        # The "held" constraint: a called ticket needs a counter. Errors surface unchanged.
        _CALL.execute(conn, {"ticket_id_": row.id})
    done = Prepared(update(Ticket.__table__).where(T.id == bindparam("ticket_id_"))
                    .values(note=bindparam("note")))
    with db.write() as conn:
        assert done.execute(conn, {"ticket_id_": row.id, "note": "ok"}).rowcount == 1
        assert done.execute(conn, {"ticket_id_": row.id + 99, "note": "no"}).rowcount == 0


def test_a_missing_parameter_is_an_error_not_a_null(db: Database):
    with pytest.raises(StatementError, match="service"), db.read() as conn:
        _BY_SERVICE.execute(conn, {})


def test_sqlite_rows_are_plain_rows_postgresql_gets_sqlalchemys(db: Database):
    with db.read() as conn:
        result = _BY_SERVICE.execute(conn, {"service": "ACTA"})
    assert isinstance(result, Rows) == db.is_sqlite
