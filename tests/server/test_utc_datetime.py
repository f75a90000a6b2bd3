"""UTC datetimes in SQLite: the one-step bind stores the text SQLAlchemy's two layers stored."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import StatementError

from server.models.base import UTCDateTime

DIALECT = sqlite.dialect()
MEXICO = ZoneInfo("America/Mexico_City")


def _two_layers(value: dt.datetime | None) -> str | None:
    """What SQLAlchemy stores: process_bind_param, then SQLite's DATETIME formatting."""
    column_type = UTCDateTime()
    impl = column_type.dialect_impl(DIALECT).impl
    return impl.bind_processor(DIALECT)(column_type.process_bind_param(value, DIALECT))


def _one_step(value: dt.datetime | None) -> str | None:
    return UTCDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)(value)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1),
                    timezones=st.sampled_from([dt.UTC, MEXICO, dt.timezone(dt.timedelta(hours=5,
                                                                                    minutes=30))])))
def test_an_aware_datetime_is_bound_as_the_same_text_as_before(moment: dt.datetime):
    assert _one_step(moment) == _two_layers(moment)


def test_whole_seconds_keep_their_microseconds_digits_as_before():
    moment = dt.datetime(2026, 11, 22, 9, 0, tzinfo=dt.UTC)

    assert _one_step(moment) == "2026-11-22 09:00:00.000000" == _two_layers(moment)


def test_none_stays_null():
    assert _one_step(None) is None


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="naive datetimes are not stored"):
        _one_step(dt.datetime(2026, 11, 22, 9, 0))


def test_a_stored_datetime_reads_back_as_the_same_instant_in_utc(tmp_path: Path):
    engine = create_engine(f"sqlite:///{tmp_path / 'times.sqlite'}")
    table = Table("times", MetaData(), Column("id", Integer, primary_key=True),
                  Column("at", UTCDateTime()))
    table.metadata.create_all(engine)
    moment = dt.datetime(2026, 11, 22, 3, 4, 5, 678, tzinfo=MEXICO)
    with engine.begin() as conn:
        conn.execute(insert(table), {"id": 1, "at": moment})
        stored = conn.execute(text("SELECT at FROM times")).scalar_one()
        read = conn.execute(select(table.c.at)).scalar_one()
        with pytest.raises(StatementError):
            conn.execute(insert(table), {"id": 2, "at": dt.datetime(2026, 11, 22)})
    engine.dispose()

    assert stored == "2026-11-22 09:04:05.000678"
    assert read == moment and read.tzinfo is dt.UTC
