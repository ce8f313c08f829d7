"""Readings on PostgreSQL partitioned by month: the migration converts a filled table, ingest's
guarantees hold on the partitioned table, partitions are created ahead, and retention drops whole
months, finalising their rollups first, and nothing younger."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from cityops.domain.observations import Reading
from cityops.domain.retention import RetentionPolicy, hour_floor
from cityops.services import retention, rollups
from cityops.services.housekeeping import Housekeeping, Schedule
from cityops.services.retention import EvidenceStore
from cityops.store import observations_repo, rollups_repo
from cityops.store import partitions_repo as parts
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from cityops.store.tables_audit import reading_hourly
from cityops.store.tables_rollups import reading_daily
from tests.audit.support import migrated
from tests.town import MUNI

pytestmark = pytest.mark.postgres
OTHER = "elsewhere"
JULY = datetime(2026, 7, 1, tzinfo=UTC)


def _month_readings(municipality: str = MUNI) -> list[Reading]:
    """A reading every 30 minutes from July to the end of November, two sensors."""
    out = []
    at = JULY
    while at < datetime(2026, 12, 1, tzinfo=UTC):
        for k, sensor in enumerate(("river-1", "river-2")):
            out.append(Reading(municipality, sensor, at, float((at.hour * 3 + k) % 17)))
        at += timedelta(minutes=30)
    return out


def _count(db: Engine, sql: str) -> int:
    with db.connect() as conn:
        return int(conn.execute(text(sql)).scalar_one())


def _partition_names(db: Engine) -> list[str]:
    with db.connect() as conn:
        return [p.name for p in parts.partitions(conn)]


def test_the_migration_partitions_a_filled_table_and_rolls_it_up(pg_url: str) -> None:
    upgrade(pg_url, "0011")
    db = make_engine(pg_url)
    readings = _month_readings()
    with db.begin() as conn:  # the 0011 table: plain, no rollup marks yet
        conn.execute(
            t.readings.insert(),
            [
                {
                    "municipality": r.municipality,
                    "sensor_id": r.sensor_id,
                    "ts": r.ts,
                    "value": r.value,
                }
                for r in readings
            ],
        )
    upgrade(pg_url)
    assert _count(db, "SELECT count(*) FROM readings") == len(readings)
    assert _count(db, "SELECT relkind = 'p' FROM pg_class WHERE oid = 'readings'::regclass::oid")
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.{parts.DEFAULT}") == 0
    names = _partition_names(db)
    assert {"readings_2026_07", "readings_2026_11"} <= set(names)
    now = parts.month_floor(datetime.now(UTC))
    assert parts.partition_of(now).name in names  # this month and the next ones exist
    # each month's rows are in its own partition
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.readings_2026_08") == 2 * 31 * 48
    with db.connect() as conn:
        hours = conn.execute(select(func.sum(reading_hourly.c.count))).scalar_one()
        days = conn.execute(select(func.count()).select_from(reading_daily)).scalar_one()
    assert hours == len(readings)
    assert days == 2 * (31 + 31 + 30 + 31 + 30)
    db.dispose()


def test_ingest_guarantees_hold_on_the_partitioned_table(pg_url: str) -> None:
    db = migrated(pg_url)
    far = datetime(2031, 5, 4, 3, 2, 1, tzinfo=UTC)  # no partition yet: the default one
    first = [Reading(MUNI, "river-1", far, 1.0), Reading(MUNI, "river-1", JULY, 2.0)]
    with db.begin() as conn:
        observations_repo.insert_readings(conn, first)
    with db.begin() as conn:  # redelivered with other values: the first ones are kept
        observations_repo.insert_readings(
            conn, [Reading(r.municipality, r.sensor_id, r.ts, 9.0) for r in first]
        )
    with db.begin() as conn:
        made = parts.ensure(conn, [far, JULY])
    assert made == ["readings_2026_07", "readings_2031_05"]
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.{parts.DEFAULT}") == 0
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.readings_2031_05") == 1
    with db.begin() as conn:  # the moved row still refuses a duplicate
        observations_repo.insert_readings(conn, [Reading(MUNI, "river-1", far, 7.0)])
    with db.connect() as conn:
        rows = conn.execute(
            select(t.readings.c.ts, t.readings.c.value).order_by(t.readings.c.ts)
        ).all()
    assert [(r.ts, r.value) for r in rows] == [(JULY, 2.0), (far, 1.0)]
    db.dispose()


def test_retention_drops_whole_months_and_nothing_younger(pg_url: str, tmp_path: Path) -> None:
    db = migrated(pg_url)
    readings = _month_readings() + _month_readings(OTHER)
    with db.begin() as conn:
        conn.execute(
            t.municipalities.insert(),
            [{"id": m, "name": m, "timezone": "UTC", "updated_at": JULY} for m in (MUNI, OTHER)],
        )
        parts.ensure(conn, [JULY + timedelta(days=31 * k) for k in range(5)])
        for i in range(0, len(readings), 5000):
            observations_repo.insert_readings(conn, readings[i : i + 5000])
    now = datetime(2026, 11, 15, 12, tzinfo=UTC)  # cut-offs mid-October and in September
    policies = {
        MUNI: RetentionPolicy(readings_days=30, readings_hourly_days=0),
        OTHER: RetentionPolicy(readings_days=50, readings_hourly_days=0),
    }
    store = EvidenceStore(tmp_path, 30.0)
    run = retention.run(db, MUNI, policies[MUNI], store, now=now)
    assert run.ok, run.error
    # another municipality is in the database: one municipality's run drops nothing
    assert run.removed["readings"] == 0
    assert len(_partition_names(db)) >= 5
    job = Housekeeping(db, lambda: policies, store, Schedule())
    job.run_retention(now)
    # the earliest cut-off (OTHER's, 2026-09-26) decides: July and August go, September stays
    names = _partition_names(db)
    assert "readings_2026_07" not in names
    assert "readings_2026_08" not in names
    assert "readings_2026_09" in names
    september = datetime(2026, 9, 1, tzinfo=UTC)
    with db.connect() as conn:
        kept = conn.execute(select(func.count()).select_from(t.readings)).scalar_one()
        oldest = conn.execute(select(func.min(t.readings.c.ts))).scalar_one()
        assert rollups_repo.horizon(conn, MUNI) == september
    assert kept == len([r for r in readings if r.ts >= september])
    assert oldest == september
    # the dropped months' rollups equal what their readings gave
    with db.connect() as conn:
        rows = (
            conn.execute(select(reading_hourly).where(reading_hourly.c.hour < september))
            .mappings()
            .all()
        )
    assert sum(r["count"] for r in rows) == len([r for r in readings if r.ts < september])
    assert len(rows) == len(
        {(r.municipality, r.sensor_id, hour_floor(r.ts)) for r in readings if r.ts < september}
    )
    # a late reading of a dropped month lands in the default partition and is merged later
    late = Reading(MUNI, "river-1", JULY + timedelta(minutes=10), 100.0)
    with db.begin() as conn:
        observations_repo.insert_readings(conn, [late])
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.{parts.DEFAULT}") == 1
    rollups.run_pending(db)  # a final hour: not recomputed from the one late reading
    job.run_retention(now)
    with db.connect() as conn:
        first_hour = (
            conn.execute(
                select(reading_hourly).where(
                    reading_hourly.c.municipality == MUNI,
                    reading_hourly.c.sensor_id == "river-1",
                    reading_hourly.c.hour == JULY,
                )
            )
            .mappings()
            .one()
        )
    assert (first_hour["count"], first_hour["max"]) == (3, 100.0)
    assert _count(db, f"SELECT count(*) FROM {parts.SCHEMA}.{parts.DEFAULT}") == 0
    db.dispose()


def test_housekeeping_creates_the_coming_months(pg_url: str, tmp_path: Path) -> None:
    db = migrated(pg_url)
    later = datetime(2029, 2, 10, tzinfo=UTC)
    job = Housekeeping(db, dict, EvidenceStore(tmp_path, 30.0), Schedule())
    job.roll_up(later)
    names = set(_partition_names(db))
    assert {"readings_2029_02", "readings_2029_03", "readings_2029_04", "readings_2029_05"} <= names
    assert "readings_2029_06" not in names
    db.dispose()
