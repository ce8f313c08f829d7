"""What the sensors table remembers of each sensor's newest reading (written by ingest), and a
sensor's chart series from the raw readings or their hourly or daily rollups (docs/STORAGE.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Connection, literal, select

from cityops.domain.retention import hour_floor
from cityops.store import tables as t
from cityops.store.observations_repo import SensorLatest
from cityops.store.rollups_repo import day_floor
from cityops.store.tables_audit import reading_hourly
from cityops.store.tables_rollups import reading_daily


def latest_readings(conn: Connection, municipality: str) -> list[SensorLatest]:
    """Each active sensor's newest stored reading and when it was received (none: left out)."""
    c = t.sensors.c
    rows = conn.execute(
        select(c.id, c.last_value, c.last_ts, c.last_received_at).where(
            c.municipality == municipality, c.active, c.last_received_at.is_not(None)
        )
    )
    return [
        SensorLatest(municipality, r.id, r.last_value, r.last_ts, r.last_received_at) for r in rows
    ]


class Resolution(StrEnum):
    RAW = "raw"
    HOUR = "hour"
    DAY = "day"


RAW_UP_TO = timedelta(days=2)
"""Windows up to this long are drawn from the raw readings (one a minute: 2,880 points)."""
HOURLY_UP_TO = timedelta(days=62)
"""Up to this long from the hourly rollups (1,488 points); longer ones from the daily."""


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    """One point of a chart: a raw reading (count 1, min = max = value) or the mean of an
    hour's or a day's readings with their extremes."""

    ts: datetime
    value: float
    min: float
    max: float
    count: int


def pick_resolution(since: datetime, until: datetime, raw_from: datetime | None) -> Resolution:
    """The coarsest resolution a window needs: raw for short windows whose readings are all
    still kept raw, hourly up to two months, daily beyond."""
    window = until - since
    if window <= RAW_UP_TO and (raw_from is None or since >= raw_from):
        return Resolution.RAW
    return Resolution.HOUR if window <= HOURLY_UP_TO else Resolution.DAY


def series(
    conn: Connection,
    municipality: str,
    sensor_id: str,
    since: datetime,
    until: datetime | None,
    limit: int,
    resolution: Resolution,
) -> list[SeriesPoint]:
    """The newest ``limit`` points of [since, until) at ``resolution``, oldest first. A rolled
    up point stands at the start of its hour or day; one that began before ``since`` is in."""
    if resolution is Resolution.RAW:
        c = t.readings.c
        q = select(c.ts, c.value, c.value, c.value, literal(1)).where(
            c.municipality == municipality, c.sensor_id == sensor_id, c.ts >= since
        )
        key = c.ts
        if until is not None:
            q = q.where(c.ts < until)
    else:
        table = reading_hourly if resolution is Resolution.HOUR else reading_daily
        key = table.c.hour if resolution is Resolution.HOUR else table.c.day
        floor = hour_floor(since) if resolution is Resolution.HOUR else day_floor(since)
        r = table.c
        q = select(key, r.mean, r.min, r.max, r["count"]).where(
            r.municipality == municipality, r.sensor_id == sensor_id, key >= floor
        )
        if until is not None:
            q = q.where(key < until)
    rows = conn.execute(q.order_by(key.desc()).limit(limit)).all()
    return [SeriesPoint(r[0], r[1], r[2], r[3], int(r[4])) for r in reversed(rows)]
