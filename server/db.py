"""Engine set-up and the two kinds of transaction the services use.

SQLite: WAL, synchronous=FULL (a printed number must survive a power cut), foreign keys,
a busy timeout, and writes that start with BEGIN IMMEDIATE so that read-then-write sequences
such as call-next are serialised instead of failing on lock upgrade. pysqlite's own BEGIN
handling is switched off, as SQLAlchemy documents, so that we can emit our own. Concurrent
writes share their COMMIT (see GroupCommit).
PostgreSQL: READ COMMITTED; call-next relies on row locks with SKIP LOCKED. Its server already
lets concurrent commits share a WAL flush, so each write is a transaction of its own.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, RootTransaction, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

from server.file_locks import lock, open_lock_file, try_lock, unlock

R = TypeVar("R")

DEFAULT_SQLITE_PATH = Path("instance") / "turnos.sqlite"
SQLITE_BUSY_TIMEOUT_MS = 10_000


def database_url_from_env() -> str:
    """TURNOS_DATABASE_URL, or an SQLite file under ./instance/."""
    url = os.environ.get("TURNOS_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{DEFAULT_SQLITE_PATH}"


class Database:
    """One engine plus `write()` and `read()` transactions on plain Core connections."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        self._group_commit: GroupCommit | None = None
        self._readers: deque[Connection] | None = None
        self._max_idle_readers = 0
        if self.is_sqlite:
            self.engine = _sqlite_engine(parsed, pool_size)
            # SQLite has one writer at a time: writers queue in this process (GroupCommit)
            # and between the server's worker processes (WriterLock) rather than in SQLite's
            # busy handler, whose sleep-and-retry collapses under load and, under gevent,
            # would stop the event loop. busy_timeout still arbitrates with other programs
            # (the CLI next to a server).
            self._group_commit = GroupCommit(self.engine, WriterLock.beside(parsed.database))
            # Open connections kept between SQLite read transactions: returning one to the pool
            # (its reset and events) cost four times the BEGIN and COMMIT of the read.
            self._readers = deque()
            self._max_idle_readers = pool_size
        else:
            self.engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True
            )
        self.url = parsed

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: serialised from its first statement on SQLite.

        Atomic and, when the block ends without an exception, committed to disk.
        """
        if self._group_commit is not None:
            with self._group_commit.write() as conn:
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction; it takes no write lock."""
        if self._readers is None:
            with self.engine.connect() as conn:
                conn = conn.execution_options(turnos_read_only=True)
                with conn.begin():
                    yield conn
            return
        conn = self._reader()
        raw = conn.connection.dbapi_connection
        try:
            # BEGIN and COMMIT straight on the DBAPI connection: SQLAlchemy's transaction
            # object, with its events, cost more than the indexed read inside it. A statement
            # run through conn.execute() still opens SQLAlchemy's transaction, inside this one
            # (see _on_begin), and then SQLAlchemy ends both.
            raw.execute("BEGIN")
            yield conn
            if conn.in_transaction():
                conn.commit()
            else:
                raw.execute("COMMIT")
        except BaseException:
            conn.close()
            raise
        if len(self._readers) < self._max_idle_readers and not conn.invalidated:
            self._readers.append(conn)
        else:
            conn.close()

    def _reader(self) -> Connection:
        while True:
            try:
                conn = self._readers.pop()  # type: ignore[union-attr]
            except IndexError:
                return self.engine.connect().execution_options(turnos_read_only=True)
            if not conn.invalidated and not conn.closed:
                return conn

    def dispose(self) -> None:
        if self._group_commit is not None:
            self._group_commit.close()
        while self._readers:
            self._readers.pop().close()
        self.engine.dispose()


def _sqlite_engine(url, pool_size: int) -> Engine:
    database = url.database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=pool_size,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        raw = conn.connection.dbapi_connection
        read_only = conn.get_execution_options().get("turnos_read_only", False)
        if read_only and raw.in_transaction:
            return  # Database.read() began it already
        # Straight on the DBAPI connection: exec_driver_sql would run SQLAlchemy's whole
        # execution machinery (events, context, result) for a statement that returns nothing.
        raw.execute("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


class CommitFailed(Exception):
    """The shared COMMIT of a group of writes failed; none of them was stored."""


@dataclass(eq=False)
class _Batch:
    conn: Connection
    transaction: RootTransaction
    writes: int = 0
    committed: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class GroupCommit:
    """SQLite writes that arrive together share one COMMIT, and so one fsync.

    With synchronous=FULL a COMMIT returns only once the disk has the data, which takes a
    millisecond or two: one commit per request would cap the whole CSA at a few hundred
    writes per second, whatever the code does (see docs/performance.md). So writes take turns
    on one connection, in arrival order, inside one open transaction, each in a SAVEPOINT of
    its own: a write that fails undoes only its own statements. The last writer in line
    commits for everyone before it and then wakes them. Nobody returns before the COMMIT that
    holds its writes has reached the disk, so a caller acknowledges nothing that a power cut
    could lose, exactly as with one transaction per write; what is shared is the wait.

    Under gevent the COMMIT runs on a native thread (SQLite releases the GIL), so requests keep
    arriving and line up for the next group while the disk works.
    """

    # Past this many writes the group commits even if more are waiting, to bound latency.
    MAX_WRITES = 100

    def __init__(self, engine: Engine, writer_lock: WriterLock | None = None) -> None:
        self._engine = engine
        self._writer_lock = writer_lock
        # Guards the three fields below; held only for a few instructions.
        self._mutex = threading.Lock()
        self._taken = False
        self._line: deque[threading.Event] = deque()
        self._owner: int | None = None
        # The open transaction; only whoever has the turn touches it.
        self._batch: _Batch | None = None
        # The writers' connection, kept from one group to the next: checking one out of the
        # pool and returning it (with its reset) cost more per group than its COMMIT's Python.
        # Only whoever has the turn touches it.
        self._conn: Connection | None = None

    @contextmanager
    def write(self) -> Iterator[Connection]:
        self._take_turn()
        try:
            batch = self._batch
            if batch is None:
                conn = self._conn
                if conn is None or conn.invalidated or conn.closed:
                    if conn is not None:
                        conn.close()
                    conn = self._conn = self._engine.connect()
                if self._writer_lock is not None:
                    self._writer_lock.acquire()
                try:
                    batch = _Batch(conn, conn.begin())
                except BaseException:
                    self._release_writer_lock()
                    self._conn = None
                    conn.close()
                    raise
                self._batch = batch
            batch.writes += 1
            # Plain SAVEPOINT statements on the DBAPI connection: SQLAlchemy's nested
            # transactions would cost more than the write itself, and nothing inside a write
            # opens savepoints of its own.
            raw = batch.conn.connection.dbapi_connection
            raw.execute("SAVEPOINT write")
            try:
                yield batch.conn
            except BaseException:
                raw.execute("ROLLBACK TO write")
                raw.execute("RELEASE write")
                raise
            raw.execute("RELEASE write")
        finally:
            self._end_turn()
        batch.committed.wait()
        if batch.error is not None:
            raise CommitFailed("the database could not commit this write") from batch.error

    def _take_turn(self) -> None:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                # The same thread would wait for itself forever.
                raise RuntimeError("a write transaction cannot be opened inside another")
            if not self._taken:
                self._taken, self._owner = True, me
                return
            turn = threading.Event()
            self._line.append(turn)
        try:
            turn.wait()
        except BaseException:
            # Interrupted (a killed greenlet): leave the line, or pass on the turn if it was
            # handed over meanwhile, committing for those before us if we were the last.
            with self._mutex:
                if turn in self._line:
                    self._line.remove(turn)
                    raise
            self._end_turn()
            raise
        self._owner = me

    def _end_turn(self) -> None:
        """Commit if nobody else is waiting to join (or the group is full); pass the turn."""
        with self._mutex:
            batch = self._batch
            if batch is None or (self._line and batch.writes < self.MAX_WRITES):
                self._pass_turn()
                return
            self._batch = None
        try:
            self._commit(batch, self._writer_lock)
        finally:
            self._release_writer_lock()
            with self._mutex:
                self._pass_turn()
            batch.committed.set()

    def _release_writer_lock(self) -> None:
        if self._writer_lock is not None:
            self._writer_lock.release()

    def _pass_turn(self) -> None:
        """With the mutex held: the next in line gets the turn, or it becomes free."""
        self._owner = None
        if self._line:
            self._line.popleft().set()
        else:
            self._taken = False

    @staticmethod
    def _commit(batch: _Batch, writer_lock: WriterLock | None) -> None:
        raw = batch.conn.connection.dbapi_connection

        def commit() -> None:
            raw.commit()
            # Released on the native thread the moment the COMMIT is done: the event loop may
            # take a while to resume this greenlet, and other processes' writers wait.
            if writer_lock is not None:
                writer_lock.release()

        try:
            # The COMMIT itself, fsync included, is the slow part: off the event loop. Then
            # SQLAlchemy closes its transaction; pysqlite's commit() is a no-op by then.
            _off_event_loop(commit)
            batch.transaction.commit()
        except BaseException as error:
            batch.error = error
            try:
                batch.transaction.rollback()
            except Exception:
                # The next group opens a fresh connection (see write()).
                batch.conn.invalidate()

    def close(self) -> None:
        """Return the writers' connection to the pool (between groups, as on dispose)."""
        with self._mutex:
            if self._taken:
                return  # a group is open: its last writer still needs the connection
            conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()
        if self._writer_lock is not None:
            self._writer_lock.close()


class WriterLock:
    """An exclusive lock on a file next to the database, held by a process's open group.

    With several server worker processes each has its own GroupCommit; without this, a group
    opening while another process's group is open would wait in SQLite's busy handler, which
    sleeps 1, 2, 5, 10... ms between tries and holds the event loop meanwhile. flock() wakes
    the next process as soon as the lock is released, and a process that dies (even by
    SIGKILL) releases it with its file descriptor.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._fd: int | None = None
        self._held = False

    @classmethod
    def beside(cls, database: str | None) -> WriterLock | None:
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return cls(Path(f"{database}-writer.lock"))

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = open_lock_file(self._path)
        fd = self._fd
        if not try_lock(fd):
            # Another process's group is open: wait for it on a native thread.
            _off_event_loop(lambda: lock(fd))
        self._held = True

    def release(self) -> None:
        """Unlock if held; safe to call again (from the COMMIT's thread, then the group's)."""
        if self._held and self._fd is not None:
            self._held = False
            unlock(self._fd)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


def _off_event_loop(work: Callable[[], R]) -> R:
    """Run blocking `work` on a native thread under gevent, so other greenlets go on."""
    if "gevent.monkey" in sys.modules:
        from gevent import get_hub, monkey

        if monkey.is_module_patched("threading"):
            return get_hub().threadpool.apply(work)
    return work()
