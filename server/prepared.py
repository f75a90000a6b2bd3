"""Hot-path statements compiled once and, on SQLite, run straight on the DBAPI connection.

SQLAlchemy's `Connection.execute` costs 50-100 µs of Python per statement (execution context,
events, cache key, result metadata) while SQLite itself needs 5-20 µs for the indexed reads and
writes of issuing and calling a ticket; with 7 to 12 statements per request that overhead was
the largest single cost of the API (see docs/performance.md). A `Prepared` statement is still
written as SQLAlchemy Core, so the SQL, its dialect and its column types stay those of the
models: it is compiled once per set of parameter names with the engine's own SQLite dialect,
and the types' own bind and result processors convert values, exactly as `execute` would.
Only the per-call machinery is skipped. It runs inside whatever transaction the connection
has open (`Database.write()` or `read()`).

Anything this shortcut does not cover (another database, expanding IN parameters, defaults
computed by Python callables) goes through `Connection.execute` unchanged, so a `Prepared`
statement can be used everywhere.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound, StatementError
from sqlalchemy.sql import ClauseElement

_MISSING = object()


class Rows:
    """The rows of one statement, with the handful of `Result` methods the services use."""

    __slots__ = ("_rows", "rowcount", "lastrowid")

    def __init__(self, rows: list[Any], rowcount: int = -1, lastrowid: int | None = None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.lastrowid = lastrowid

    def __iter__(self) -> Iterator[Any]:
        return iter(self._rows)

    def all(self) -> list[Any]:
        return list(self._rows)

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Any:
        if len(self._rows) == 1:
            return self._rows[0]
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        raise MultipleResultsFound("Multiple rows were found when exactly one was required")

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar(self) -> Any | None:
        return self._rows[0][0] if self._rows else None


class _Plan:
    """One statement compiled for SQLite with one set of parameter names.

    Since a plan serves exactly one set of names, everything else is settled when it is built:
    a value the caller does not give (a literal, a column default) is converted once, and a
    name the statement binds in several places (a service and day in each subquery) is
    converted once per call, not once per place.
    """

    __slots__ = ("sql", "params", "layout", "missing", "row_type", "converters",
                 "returns_rows")

    def __init__(self, statement: ClauseElement, connection: Connection,
                 keys: frozenset[str]) -> None:
        dialect = connection.dialect
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys))
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise _Unsupported
        defaults: dict[str, Any] = {}
        for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
            default = column.default if column in compiled.insert_prefetch else column.onupdate
            if default is None or not default.is_scalar:
                raise _Unsupported
            defaults[column.key] = default.arg
        # What run() converts, once per name given; and per position of the statement,
        # either the index of one of those or a value settled now.
        params: list[tuple[str, Callable[[Any], Any] | None]] = []
        index: dict[str, int] = {}
        layout: list[tuple[int, Any]] = []
        self.missing: str | None = None
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.callable is not None or bind.expanding:
                raise _Unsupported
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name in keys:
                if name not in index:
                    index[name] = len(params)
                    params.append((name, processor))
                layout.append((index[name], None))
                continue
            fallback = defaults.get(name, _MISSING if bind.required else bind.value)
            if fallback is _MISSING:
                self.missing = self.missing or name
                fallback = None
            layout.append((-1, processor(fallback) if processor is not None else fallback))
        self.params = tuple(params)
        # None when the statement binds each given name once, in order, and nothing else.
        self.layout = None if layout == [(i, None) for i in range(len(params))] else tuple(layout)
        self.sql = compiled.string
        columns = _result_columns(statement)
        self.returns_rows = columns is not None
        self.row_type = None
        self.converters: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
        if columns is not None:
            self.row_type = namedtuple("Row", [c.key or f"_{i}" for i, c in enumerate(columns)],
                                       rename=True)
            converters = []
            for i, column in enumerate(columns):
                processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
                if processor is not None:
                    converters.append((i, processor))
            self.converters = tuple(converters)

    def run(self, connection: Connection, parameters: Mapping[str, Any]) -> Rows:
        try:
            if self.missing is not None:
                raise KeyError(f"statement parameter '{self.missing}' was not given")
            given = [parameters[name] if processor is None else processor(parameters[name])
                     for name, processor in self.params]
        except Exception as error:
            # As Connection.execute reports a value that cannot be bound.
            raise StatementError(str(error), self.sql, dict(parameters), error) from error
        values = given if self.layout is None else [
            given[i] if i >= 0 else settled for i, settled in self.layout
        ]
        dbapi = connection.connection.dbapi_connection
        try:
            cursor = dbapi.execute(self.sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            # As Connection.execute raises it: IntegrityError and the rest of sqlalchemy.exc.
            raise DBAPIError.instance(self.sql, values, error,
                                      connection.dialect.loaded_dbapi.Error) from error
        if not self.returns_rows:
            return Rows([], cursor.rowcount, cursor.lastrowid)
        raw = cursor.fetchall()
        make, converters = self.row_type._make, self.converters
        if not converters:
            return Rows([make(r) for r in raw], cursor.rowcount)
        rows = []
        for record in raw:
            record = list(record)
            for i, convert in converters:
                record[i] = convert(record[i])
            rows.append(make(record))
        return Rows(rows, cursor.rowcount)


class _Unsupported(Exception):
    """This statement needs SQLAlchemy's full execution path."""


class Prepared:
    """A Core statement built once at import, run with `statement.execute(conn, params)`."""

    __slots__ = ("statement", "_plans")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        # Parameter names -> plan, or None where the shortcut does not apply.
        self._plans: dict[frozenset[str], _Plan | None] = {}

    def execute(self, connection: Connection, parameters: Mapping[str, Any] | None = None
                ) -> Rows | Any:
        """Run on `connection`'s open transaction; returns `Rows` (or a `Result`)."""
        parameters = parameters or {}
        if connection.dialect.name != "sqlite":
            return connection.execute(self.statement, parameters)
        keys = frozenset(parameters)
        try:
            plan = self._plans[keys]
        except KeyError:
            try:
                plan = _Plan(self.statement, connection, keys)
            except _Unsupported:
                plan = None
            self._plans[keys] = plan
        if plan is None:
            return connection.execute(self.statement, parameters)
        return plan.run(connection, parameters)


def _result_columns(statement: ClauseElement) -> list[Any] | None:
    """The columns a statement returns, in order; None for one that returns no rows."""
    if getattr(statement, "is_dml", False):
        # A DML statement exports its RETURNING columns, and none without RETURNING.
        return list(statement.exported_columns) or None
    return list(statement.selected_columns)
