"""SQLite writes that arrive together share one COMMIT, and each stays atomic on its own."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, text

from server.db import CommitFailed, Database, WriterLock
from tests.support.processes import write_note, write_notes


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'group.sqlite'}")
    with database.engine.begin() as conn:
        conn.execute(text("CREATE TABLE parent (id INTEGER PRIMARY KEY)"))
        conn.execute(text(
            "CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE, "
            "parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)"
        ))
    yield database
    database.dispose()


def _commits(db: Database) -> list[int]:
    counted: list[int] = []
    event.listen(db.engine, "commit", lambda conn: counted.append(1))
    return counted


def _bodies(db: Database) -> list[str]:
    with db.read() as conn:
        return sorted(conn.execute(text("SELECT body FROM note")).scalars())


def _write(db: Database, body: str) -> None:
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": body})


def _queue_behind_a_held_write(db: Database, writers: list[threading.Thread]
                               ) -> list[BaseException]:
    """Start a write that waits inside its transaction until `writers` are all in line.

    Returns what the held write raised, if anything.
    """
    inside, release = threading.Event(), threading.Event()
    raised: list[BaseException] = []

    def first() -> None:
        try:
            with db.write() as conn:
                conn.execute(text("INSERT INTO note (body) VALUES ('first')"))
                inside.set()
                release.wait(10)
        except Exception as error:
            raised.append(error)

    holder = threading.Thread(target=first)
    holder.start()
    assert inside.wait(10)
    for writer in writers:
        writer.start()
    group = db._group_commit
    assert group is not None
    for _ in range(1000):
        if len(group._line) == len(writers):
            break
        threading.Event().wait(0.01)
    release.set()
    holder.join(10)
    for writer in writers:
        writer.join(10)
    return raised


def test_writes_that_wait_together_share_one_commit(db: Database):
    commits = _commits(db)
    writers = [threading.Thread(target=_write, args=(db, f"note {n}")) for n in range(8)]

    _queue_behind_a_held_write(db, writers)

    # The eight that lined up behind the held write commit together with it.
    assert len(commits) == 1
    assert _bodies(db) == sorted(["first", *(f"note {n}" for n in range(8))])


def test_a_failing_write_undoes_only_its_own_statements(db: Database):
    failures: list[BaseException] = []

    def duplicate() -> None:
        try:
            with db.write() as conn:
                conn.execute(text("INSERT INTO note (body) VALUES ('mine')"))
                conn.execute(text("INSERT INTO note (body) VALUES ('first')"))  # taken
        except Exception as error:
            failures.append(error)

    writers = [threading.Thread(target=_write, args=(db, "before")),
               threading.Thread(target=duplicate),
               threading.Thread(target=_write, args=(db, "after"))]
    _queue_behind_a_held_write(db, writers)

    assert len(failures) == 1
    assert _bodies(db) == ["after", "before", "first"]


def test_a_write_is_visible_to_other_connections_as_soon_as_it_returns(db: Database):
    _write(db, "durable")
    with db.engine.connect() as other:
        assert other.execute(text("SELECT body FROM note")).scalars().all() == ["durable"]


def test_when_the_shared_commit_fails_every_write_in_the_group_fails(db: Database):
    failures: list[BaseException] = []

    def orphan() -> None:
        # The deferred foreign key is only checked by COMMIT, so the whole group's COMMIT fails.
        try:
            with db.write() as conn:
                conn.execute(text("INSERT INTO note (body, parent_id) VALUES ('orphan', 42)"))
        except CommitFailed as error:
            failures.append(error)

    def plain() -> None:
        try:
            _write(db, "innocent")
        except CommitFailed as error:
            failures.append(error)

    writers = [threading.Thread(target=orphan), threading.Thread(target=plain)]

    held = _queue_behind_a_held_write(db, writers)

    assert len(failures) == 2
    assert [type(error) for error in held] == [CommitFailed]
    assert _bodies(db) == []
    # The database is usable again afterwards.
    _write(db, "later")
    assert "later" in _bodies(db)


def test_a_write_inside_a_write_is_refused_instead_of_waiting_for_itself(db: Database):
    with db.write(), pytest.raises(RuntimeError, match="inside another"):
        _write(db, "nested")
    _write(db, "still usable")
    assert _bodies(db) == ["still usable"]


# --- several processes on one file (gunicorn's workers): the writer lock ---------------------

SPAWN = multiprocessing.get_context("spawn")


def test_two_processes_writing_at_once_store_every_row_without_an_error(db: Database):
    url = db.engine.url.render_as_string()
    go = SPAWN.Event()
    writers = [SPAWN.Process(target=write_notes, args=(url, name, 300, 4, go))
               for name in ("one", "two")]
    for writer in writers:
        writer.start()
    go.set()
    for writer in writers:
        writer.join(120)

    assert [writer.exitcode for writer in writers] == [0, 0]
    assert _bodies(db) == sorted(f"{name}-{n}" for name in ("one", "two") for n in range(300))


def test_a_write_in_another_process_waits_while_the_writer_lock_is_held(db: Database,
                                                                         tmp_path: Path):
    """SQLite itself is free meanwhile: what the other process waits for is the lock."""
    lock = WriterLock.beside(str(tmp_path / "group.sqlite"))
    assert lock is not None
    trying, written = SPAWN.Event(), SPAWN.Event()
    writer = SPAWN.Process(target=write_note,
                           args=(db.engine.url.render_as_string(), "waited", trying, written))
    lock.acquire()
    try:
        writer.start()
        assert trying.wait(60)
        waited = not written.wait(1.0)
        stored_meanwhile = _bodies(db)
    finally:
        lock.release()
        lock.close()
    writer.join(30)

    assert waited
    assert stored_meanwhile == []
    assert writer.exitcode == 0
    assert _bodies(db) == ["waited"]


def test_a_write_in_another_process_waits_for_an_open_group_and_then_succeeds(db: Database):
    trying, written = SPAWN.Event(), SPAWN.Event()
    writer = SPAWN.Process(target=write_note,
                           args=(db.engine.url.render_as_string(), "second", trying, written))
    with db.write() as conn:
        conn.execute(text("INSERT INTO note (body) VALUES ('first')"))
        writer.start()
        assert trying.wait(60)
        waited = not written.wait(1.0)
    writer.join(30)

    assert waited
    assert writer.exitcode == 0
    assert _bodies(db) == ["first", "second"]
