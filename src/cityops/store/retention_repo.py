"""Retention's statements: hourly aggregates of readings, removal by age, the runs' record."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    delete,
    func,
    select,
    text,
)

from cityops.domain.retention import HourlyAggregate
from cityops.store import tables as t
from cityops.store.sql import upsert
from cityops.store.tables_audit import reading_hourly, retention_runs
from cityops.store.tables_rollups import reading_daily

CLOSED_STATUSES = ("resolved", "closed", "cancelled")


@dataclass(frozen=True, slots=True)
class RunRecord:
    municipality: str
    started_at: datetime
    finished_at: datetime
    actor: str
    ok: bool
    removed: Mapping[str, int]
    cutoffs: Mapping[str, str | None]
    error: str | None = None


def _as_utc(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def oldest_reading(conn: Connection, municipality: str) -> datetime | None:
    c = t.readings.c
    oldest = conn.execute(
        select(func.min(c.ts)).where(c.municipality == municipality)
    ).scalar_one_or_none()
    return None if oldest is None else _as_utc(oldest)


def take_readings(
    conn: Connection, municipality: str, start: datetime, end: datetime
) -> list[tuple[str, datetime, float]]:
    """Delete the raw readings in [start, end) and return them: what is summed up is exactly
    what was deleted, whatever ingest commits meanwhile."""
    c = t.readings.c
    stmt = (
        delete(t.readings)
        .where(c.municipality == municipality, c.ts >= start, c.ts < end)
        .returning(c.sensor_id, c.ts, c.value)
    )
    return [(r[0], r[1], float(r[2])) for r in conn.execute(stmt)]


def merge_hourly(conn: Connection, municipality: str, fresh: list[HourlyAggregate]) -> int:
    """Store the aggregates, merged with those of the same hour already stored (a late reading
    of an hour aggregated before); the number of rows written."""
    if not fresh:
        return 0
    h = reading_hourly.c
    sensors = sorted({a.sensor_id for a in fresh})
    first = min(a.hour for a in fresh)
    stored = {
        (r["sensor_id"], _as_utc(r["hour"])): r
        for r in conn.execute(
            select(reading_hourly).where(
                h.municipality == municipality, h.sensor_id.in_(sensors), h.hour >= first
            )
        ).mappings()
    }
    rows = [_merged(municipality, a, stored.get((a.sensor_id, a.hour))) for a in fresh]
    for i in range(0, len(rows), 5000):
        upsert(conn, reading_hourly, rows[i : i + 5000], ["municipality", "sensor_id", "hour"])
    return len(rows)


def _merged(municipality: str, a: HourlyAggregate, old: RowMapping | None) -> dict[str, Any]:
    count, lo, hi, mean = a.count, a.min, a.max, a.mean
    if old is not None:
        total = old["count"] + a.count
        mean = (old["mean"] * old["count"] + a.mean * a.count) / total
        count, lo, hi = total, min(lo, old["min"]), max(hi, old["max"])
    return {
        "municipality": municipality,
        "sensor_id": a.sensor_id,
        "hour": a.hour,
        "count": count,
        "min": lo,
        "max": hi,
        "mean": mean,
    }


def delete_hourly(conn: Connection, municipality: str, before: datetime) -> int:
    """The hourly rollups of hours before ``before`` and the daily ones of days wholly before
    it; the number of hourly rows removed."""
    h, d = reading_hourly.c, reading_daily.c
    stmt = delete(reading_hourly).where(h.municipality == municipality, h.hour < before)
    removed = int(conn.execute(stmt).rowcount or 0)
    conn.execute(
        delete(reading_daily).where(
            d.municipality == municipality, d.day <= before - timedelta(days=1)
        )
    )
    return removed


def delete_events(conn: Connection, municipality: str, before: datetime) -> int:
    """Events before ``before``, except those of incidents still open (their evidence)."""
    e, ie, i = t.events.c, t.incident_events.c, t.incidents.c
    of_open = (
        select(ie.event_id)
        .join(t.incidents, i.id == ie.incident_id)
        .where(ie.municipality == municipality, i.status.not_in(CLOSED_STATUSES))
    )
    stmt = delete(t.events).where(
        and_(e.municipality == municipality, e.ts < before, e.event_id.not_in(of_open))
    )
    return int(conn.execute(stmt).rowcount or 0)


def delete_dead_letters(conn: Connection, municipality: str, before: datetime) -> int:
    d = t.dead_letters.c
    stmt = delete(t.dead_letters).where(d.municipality == municipality, d.received_at < before)
    return int(conn.execute(stmt).rowcount or 0)


def insert_run(conn: Connection, run: RunRecord) -> None:
    conn.execute(
        retention_runs.insert().values(
            municipality=run.municipality,
            started_at=run.started_at,
            finished_at=run.finished_at,
            actor=run.actor,
            ok=run.ok,
            removed=dict(run.removed),
            cutoffs=dict(run.cutoffs),
            error=run.error,
        )
    )


def recent_runs(conn: Connection, municipality: str, limit: int = 10) -> list[RunRecord]:
    r = retention_runs.c
    rows = conn.execute(
        select(retention_runs)
        .where(r.municipality == municipality)
        .order_by(r.id.desc())
        .limit(limit)
    ).mappings()
    return [
        RunRecord(
            row["municipality"],
            row["started_at"],
            row["finished_at"],
            row["actor"],
            row["ok"],
            row["removed"],
            row["cutoffs"],
            row["error"],
        )
        for row in rows
    ]


def lock_for_retention(conn: Connection, municipality: str) -> None:
    """One retention run per municipality at a time (two servers on one PostgreSQL database):
    a transaction-scoped advisory lock; SQLite serialises writers anyway."""
    if conn.dialect.name == "postgresql":
        conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(:key))"),
            {"key": f"cityops.retention.{municipality}"},
        )
