"""Hourly and daily rollups of readings (docs/STORAGE.md): the hours ingest touched, their
recomputation from the raw readings, the horizon before which hourly rollups are final, and the
reads of the charts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Float,
    Table,
    cast,
    delete,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from cityops.domain.retention import HourlyAggregate, hour_floor
from cityops.store import tables as t
from cityops.store.bulk import BulkStatement
from cityops.store.sql import upsert
from cityops.store.tables_audit import reading_hourly
from cityops.store.tables_rollups import (
    reading_daily,
    reading_rollup_pending,
    reading_rollup_state,
)

INSTALLATION = "*"
"""The horizon row moved by dropping whole partitions (PostgreSQL): it holds for everyone."""

Key = tuple[str, str, datetime]
"""(municipality, sensor, UTC hour)."""


def _utc(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def day_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _mark(dialect: Dialect) -> Any:
    p = reading_rollup_pending
    if dialect.name == "postgresql":
        pg = postgresql.insert(p)
        return pg.on_conflict_do_update(
            index_elements=["municipality", "sensor_id", "hour"], set_={"hour": pg.excluded.hour}
        )
    return sqlite.insert(p).on_conflict_do_nothing()


_mark_pending = BulkStatement(
    _mark,
    ["municipality", "sensor_id", "hour"],
    arrays="INSERT INTO reading_rollup_pending (municipality, sensor_id, hour) "
    "SELECT * FROM unnest(%(municipality)b::varchar[], %(sensor_id)b::varchar[], "
    "%(hour)b::timestamptz[]) ON CONFLICT (municipality, sensor_id, hour) "
    "DO UPDATE SET hour = excluded.hour",
)


def mark_pending(conn: Connection, keys: Iterable[Key]) -> None:
    """Note the (sensor, hour) pairs whose readings changed, in the caller's transaction. On
    PostgreSQL an existing mark is rewritten, not skipped: its row lock makes the rollup job,
    which deletes the mark before recomputing, wait for this transaction's readings."""
    _mark_pending.execute(conn, sorted(set(keys)))


def pending_count(conn: Connection) -> int:
    """How many marks wait for the rollup job."""
    return int(conn.execute(select(func.count()).select_from(reading_rollup_pending)).scalar_one())


def take_pending(
    conn: Connection,
    limit: int,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Key]:
    """Remove and return up to ``limit`` marks (of hours in [start, end) when given)."""
    c = reading_rollup_pending.c
    pick = select(c.municipality, c.sensor_id, c.hour)
    if start is not None:
        pick = pick.where(c.hour >= start)
    if end is not None:
        pick = pick.where(c.hour < end)
    pick = pick.order_by(c.municipality, c.hour, c.sensor_id).limit(limit)
    if conn.dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        delete(reading_rollup_pending)
        .where(tuple_(c.municipality, c.sensor_id, c.hour).in_(pick))
        .returning(c.municipality, c.sensor_id, c.hour)
    )
    return [(r[0], r[1], _utc(r[2])) for r in conn.execute(stmt)]


def marked(conn: Connection, start: datetime, end: datetime) -> list[Key]:
    """The committed marks of hours in [start, end), without taking or locking them."""
    c = reading_rollup_pending.c
    rows = conn.execute(
        select(c.municipality, c.sensor_id, c.hour).where(c.hour >= start, c.hour < end)
    )
    return [(r[0], r[1], _utc(r[2])) for r in rows]


def horizon(conn: Connection, municipality: str) -> datetime | None:
    """From when on the municipality's raw readings are complete (None: since the start)."""
    c = reading_rollup_state.c
    rows = conn.execute(
        select(c.raw_from).where(c.municipality.in_([municipality, INSTALLATION]))
    ).scalars()
    found = [_utc(x) for x in rows]
    return max(found) if found else None


def set_horizon(conn: Connection, municipality: str, raw_from: datetime) -> None:
    """Move the horizon forward (never back)."""
    old = conn.execute(
        select(reading_rollup_state.c.raw_from).where(
            reading_rollup_state.c.municipality == municipality
        )
    ).scalar_one_or_none()
    if old is None or _utc(old) < raw_from:
        upsert(
            conn,
            reading_rollup_state,
            [{"municipality": municipality, "raw_from": raw_from}],
            ["municipality"],
        )


def _bucket(conn: Connection, col: Any, unit: str) -> ColumnElement[Any]:
    """The UTC hour or day ``col`` falls in, as the dialect stores such a timestamp."""
    if conn.dialect.name == "postgresql":
        return func.date_trunc(unit, col, "UTC")
    pattern = "%Y-%m-%d %H:00:00.000000" if unit == "hour" else "%Y-%m-%d 00:00:00.000000"
    return func.strftime(pattern, col)


def _upsert_from(conn: Connection, table: Table, key: str, query: Any) -> int:
    cols = ["municipality", "sensor_id", key, "count", "min", "max", "mean"]
    keys = ["municipality", "sensor_id", key]
    ins: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
    stmt = ins.from_select(cols, query).on_conflict_do_update(
        index_elements=keys,
        set_={c: ins.excluded[c] for c in ("count", "min", "max", "mean")},
    )
    return len(conn.execute(stmt.returning(table.c.municipality)).all())


def rebuild_hourly(
    conn: Connection,
    municipality: str,
    sensors: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> int:
    """Recompute the hourly rollups of [start, end) (whole hours) from the raw readings."""
    r = t.readings.c
    hour = _bucket(conn, r.ts, "hour")
    query = select(
        r.municipality,
        r.sensor_id,
        hour,
        func.count(),
        func.min(r.value),
        func.max(r.value),
        cast(func.avg(r.value), Float),
    ).where(r.municipality == municipality, r.ts >= start, r.ts < end)
    if sensors is not None:
        query = query.where(r.sensor_id.in_(sorted(sensors)))
    return _upsert_from(
        conn, reading_hourly, "hour", query.group_by(r.municipality, r.sensor_id, hour)
    )


def rebuild_daily(
    conn: Connection,
    municipality: str,
    sensors: Sequence[str] | None,
    start: datetime,
    end: datetime,
) -> int:
    """Recompute the daily rollups of the UTC days in [start, end) from the hourly ones."""
    h = reading_hourly.c
    day = _bucket(conn, h.hour, "day")
    total = func.sum(h.count)
    query = select(
        h.municipality,
        h.sensor_id,
        day,
        total,
        func.min(h.min),
        func.max(h.max),
        cast(func.sum(h.mean * h.count), Float) / total,
    ).where(h.municipality == municipality, h.hour >= start, h.hour < end)
    if sensors is not None:
        query = query.where(h.sensor_id.in_(sorted(sensors)))
    return _upsert_from(
        conn, reading_daily, "day", query.group_by(h.municipality, h.sensor_id, day)
    )


def replace_hourly(conn: Connection, municipality: str, fresh: Sequence[HourlyAggregate]) -> int:
    """Store these as the hours' rollups (they summed up all of each hour's readings)."""
    rows = [
        {
            "municipality": municipality,
            "sensor_id": a.sensor_id,
            "hour": a.hour,
            "count": a.count,
            "min": a.min,
            "max": a.max,
            "mean": a.mean,
        }
        for a in fresh
    ]
    for i in range(0, len(rows), 5000):
        upsert(conn, reading_hourly, rows[i : i + 5000], ["municipality", "sensor_id", "hour"])
    return len(rows)


def roll_up(conn: Connection, keys: Sequence[Key]) -> int:
    """Recompute the hourly rollups of the marked hours (those at or after their municipality's
    horizon: earlier ones are final, retention merges their late readings) and the daily ones
    of their days. The number of hourly rows written."""
    groups: dict[tuple[str, datetime], list[tuple[str, datetime]]] = {}
    for municipality, sensor, hour in keys:
        groups.setdefault((municipality, day_floor(hour)), []).append((sensor, hour))
    limits: dict[str, datetime | None] = {}
    written = 0
    for (municipality, day), pairs in sorted(groups.items()):
        if municipality not in limits:
            limits[municipality] = horizon(conn, municipality)
        raw_from = limits[municipality]
        live = [(s, h) for s, h in pairs if raw_from is None or h >= raw_from]
        if live:
            sensors = sorted({s for s, _ in live})
            start = min(h for _, h in live)
            end = max(h for _, h in live) + timedelta(hours=1)
            written += rebuild_hourly(conn, municipality, sensors, start, end)
        sensors = sorted({s for s, _ in pairs})
        rebuild_daily(conn, municipality, sensors, day, day + timedelta(days=1))
    return written


def keys_of(rows: Iterable[tuple[str, str, datetime]]) -> set[Key]:
    """(municipality, sensor, ts) -> the marks of their hours."""
    return {(m, s, hour_floor(ts.astimezone(UTC))) for m, s, ts in rows}


def hour_of(value: object) -> datetime:
    """A stored hour (a string on SQLite when read without its column type) as UTC."""
    return hour_floor(_utc(value))
