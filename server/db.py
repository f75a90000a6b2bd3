"""Engine set-up and the two kinds of transaction the services use.

SQLite: WAL, synchronous=FULL (a printed number must survive a power cut), foreign keys,
a busy timeout, and writes that start with BEGIN IMMEDIATE so that read-then-write sequences
such as call-next are serialised instead of failing on lock upgrade. pysqlite's own BEGIN
handling is switched off, as SQLAlchemy documents, so that we can emit our own.
PostgreSQL: READ COMMITTED; call-next relies on row locks with SKIP LOCKED.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import QueuePool

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
        if self.is_sqlite:
            self.engine = _sqlite_engine(parsed, pool_size)
        else:
            self.engine = create_engine(
                parsed, pool_size=pool_size, max_overflow=pool_size * 2, pool_pre_ping=True
            )
        self.url = parsed

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that will write: serialised from its first statement on SQLite."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction; it takes no write lock."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(turnos_read_only=True)
            with conn.begin():
                yield conn

    def dispose(self) -> None:
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
        read_only = conn.get_execution_options().get("turnos_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine
