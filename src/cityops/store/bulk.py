"""The statements the ingest path runs for every batch, compiled once per database dialect and
given rows already in the driver's form.

Profiled on single-reading MQTT messages (docs/BENCHMARKS.md "Where the time goes"), SQLAlchemy's
per-row parameter handling (``construct_params`` and a chain of bind processors for every value)
cost more than the database itself: five rows per message (the reading, its hour mark for the
rollups, the sensor's latest value, two rule-state entries), each row a dict of parameters run
through up to three Python functions per value. Here a statement is compiled once, each column's
bind processor is looked up once, a value every row shares (a batch's ``now``) is converted once,
and the rows go to the driver's ``executemany`` as tuples (SQLite); on PostgreSQL a statement
that has an array form runs once per batch over binary arrays (``unnest``).

The conversion is SQLAlchemy's own (``TypeEngine.bind_processor``) except for the one it spends
most on: an aware datetime stored on SQLite, written here in one C call into the same text
SQLAlchemy writes (tests/store/test_bulk.py holds the two equal over any datetime).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from json import dumps
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable

from cityops.store.types import UTCDateTime

Processor = Callable[[Any], Any]


def sqlite_utc_text(value: datetime) -> str:
    """An aware datetime as SQLAlchemy stores ``UTCDateTime`` on SQLite: naive UTC text,
    ``YYYY-MM-DD HH:MM:SS.ffffff`` (what the primary keys of readings compare)."""
    if value.tzinfo is UTC:  # what ingest makes: its text without "+00:00", in one C call
        return value.isoformat(" ", "microseconds")[:26]
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r}: CityOps stores UTC-aware datetimes")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _processor(type_: Any, dialect: Dialect) -> Processor | None:
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return sqlite_utc_text
    processor: Processor | None = type_.dialect_impl(dialect).bind_processor(dialect)
    return processor


class _Prepared:
    """One statement compiled for one dialect."""

    def __init__(self, compiled: SQLCompiler, names: Sequence[str], dialect: Dialect) -> None:
        self.sql = compiled.string
        binds = compiled.binds
        self.processors = [_processor(binds[name].type, dialect) for name in names]
        self.positional = bool(compiled.positional)
        if self.positional:
            order = [names.index(name) for name in compiled.positiontup or ()]
            self.pick: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = (
                None if order == list(range(len(names))) else _picker(order)
            )
        self.names = tuple(names)


def _picker(order: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    get = itemgetter(*order)
    if len(order) == 1:
        return lambda row: (get(row),)
    return get


class BulkStatement:
    """A statement run with many rows; each row is a tuple of values in ``names`` order (the
    statement's bind parameter names), as the caller has them (aware datetimes, dicts for JSON).
    A name in ``shared`` takes one value for every row of a call (``execute(..., shared=...)``),
    converted once.

    ``arrays``, when given, is the same statement for PostgreSQL written over one array per name
    (``unnest(%(name)b::type[])``, binary; a shared name stays a scalar): one statement per
    batch instead of one per row, which is what psycopg's ``executemany`` sends (it cost the
    ingest thread more than all of SQLite's work). ``json`` names the columns sent as JSON text."""

    def __init__(
        self,
        build: Callable[[Dialect], Executable],
        names: Sequence[str],
        shared: Sequence[str] = (),
        *,
        arrays: str | None = None,
        json: Sequence[str] = (),
    ) -> None:
        self.build = build
        self.names = tuple(names)
        self.shared = tuple(shared)
        self.arrays = arrays
        self._json = tuple(name in json for name in self.names)
        self._prepared: dict[int, tuple[Dialect, _Prepared]] = {}

    def prepare(self, dialect: Dialect) -> _Prepared:
        found = self._prepared.get(id(dialect))
        if found is not None and found[0] is dialect:
            return found[1]
        stmt = self.build(dialect)
        compiled = stmt.compile(dialect=dialect)  # type: ignore[attr-defined]
        assert isinstance(compiled, SQLCompiler)
        prepared = _Prepared(compiled, self.names + self.shared, dialect)
        self._prepared[id(dialect)] = (dialect, prepared)
        return prepared

    def execute(
        self,
        conn: Connection,
        rows: Sequence[tuple[Any, ...]],
        shared: tuple[Any, ...] = (),
    ) -> None:
        if not rows:
            return
        if self.arrays is not None and conn.dialect.name == "postgresql":
            self._execute_arrays(conn, self.arrays, rows, shared)
            return
        p = self.prepare(conn.dialect)
        width = len(self.names)
        fixed = tuple(
            value if proc is None or value is None else proc(value)
            for value, proc in zip(shared, p.processors[width:], strict=True)
        )
        columns = [
            col if proc is None else [None if v is None else proc(v) for v in col]
            for col, proc in zip(zip(*rows, strict=True), p.processors[:width], strict=True)
        ]
        converted: list[tuple[Any, ...]] = [row + fixed for row in zip(*columns, strict=True)]
        params: list[Any]
        if p.positional:
            params = converted if p.pick is None else [p.pick(row) for row in converted]
        else:
            params = [dict(zip(p.names, row, strict=True)) for row in converted]
        conn.exec_driver_sql(p.sql, params)

    def _execute_arrays(
        self, conn: Connection, sql: str, rows: Sequence[tuple[Any, ...]], shared: tuple[Any, ...]
    ) -> None:
        params: dict[str, Any] = dict(zip(self.shared, shared, strict=True))
        for name, as_json, column in zip(
            self.names, self._json, zip(*rows, strict=True), strict=True
        ):
            params[name] = [dumps(v) for v in column] if as_json else list(column)
        conn.exec_driver_sql(sql, params)
