"""SQLite read transactions reuse their connections and never leak one in a bad state."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'reads.sqlite'}", pool_size=2)
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    yield database
    database.dispose()


def test_a_read_keeps_its_connection_open_for_the_next_read(db: Database):
    with db.read() as conn:
        first = conn.connection.dbapi_connection
    # Still checked out of the pool: no reset and no check-in events between reads.
    assert db.engine.pool.checkedout() == 1
    with db.read() as conn:
        assert conn.connection.dbapi_connection is first
    assert db.engine.pool.checkedout() == 1


def test_a_read_ends_its_transaction_so_the_next_one_sees_later_writes(db: Database):
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 0
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES ('later')"))
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 1
        assert not conn.connection.dbapi_connection.in_transaction or conn.in_transaction()


def test_a_read_of_raw_statements_alone_ends_its_transaction_too(db: Database):
    with db.read() as conn:
        raw = conn.connection.dbapi_connection
        assert raw.execute("SELECT count(*) FROM note").fetchone()[0] == 0
        assert raw.in_transaction and not conn.in_transaction()
    # No snapshot left open: it would hide later writes and hold back WAL checkpoints.
    assert not raw.in_transaction
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES ('later')"))
    with db.read() as conn:
        assert conn.connection.dbapi_connection is raw
        assert raw.execute("SELECT count(*) FROM note").fetchone()[0] == 1


def test_a_read_that_fails_leaves_no_transaction_open_for_the_next(db: Database):
    with pytest.raises(RuntimeError), db.read() as conn:
        conn.execute(text("SELECT count(*) FROM note"))
        raise RuntimeError("the reader gave up")
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES ('after')"))
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 1


def test_no_more_than_the_pool_size_of_idle_read_connections_stay_checked_out(db: Database):
    with db.read() as a, db.read() as b, db.read() as c:
        assert db.engine.pool.checkedout() >= 3
        for conn in (a, b, c):
            conn.execute(text("SELECT 1"))
    # pool_size=2: two stay open for the next reads, the third went back to the pool.
    assert db.engine.pool.checkedout() == 2
    db.dispose()
    assert db.engine.pool.checkedout() == 0


def test_reads_keep_working_after_the_database_is_disposed(db: Database):
    with db.read() as conn:
        conn.execute(text("SELECT 1"))
    db.dispose()
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM note")).scalar_one() == 0
