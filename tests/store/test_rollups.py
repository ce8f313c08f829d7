"""Hourly and daily rollups equal the raw readings they summarise (SQLite and PostgreSQL), also
with late readings and redeliveries; a chart reads the same shape at every resolution."""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, select

from cityops.domain.observations import Reading
from cityops.domain.retention import hour_floor
from cityops.services import rollups
from cityops.store import observations_repo, rollups_repo, sensors_repo
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from cityops.store.sensors_repo import Resolution
from cityops.store.tables_audit import reading_hourly
from cityops.store.tables_rollups import reading_daily, reading_rollup_pending
from tests.audit.support import migrated
from tests.town import MUNI, T0

Stats = tuple[int, float, float, float]


def _expected(readings: list[Reading], floor: object) -> dict[tuple[str, datetime], Stats]:
    groups: dict[tuple[str, datetime], list[float]] = defaultdict(list)
    seen: set[tuple[str, datetime]] = set()
    for r in readings:  # a reading stored twice counts once: the first value is kept
        if (r.sensor_id, r.ts) in seen:
            continue
        seen.add((r.sensor_id, r.ts))
        groups[(r.sensor_id, floor(r.ts))].append(r.value)  # type: ignore[operator]
    return {k: (len(v), min(v), max(v), math.fsum(v) / len(v)) for k, v in groups.items()}


def _stored(db: Engine, table: object, key: str) -> dict[tuple[str, datetime], Stats]:
    with db.connect() as conn:
        rows = conn.execute(select(table)).mappings()  # type: ignore[call-overload]
        return {(r["sensor_id"], r[key]): (r["count"], r["min"], r["max"], r["mean"]) for r in rows}


def _assert_equal(
    got: dict[tuple[str, datetime], Stats], want: dict[tuple[str, datetime], Stats]
) -> None:
    assert got.keys() == want.keys()
    for k, (n, lo, hi, mean) in want.items():
        assert got[k][:3] == (n, lo, hi), k
        assert got[k][3] == pytest.approx(mean, rel=1e-9, abs=1e-9), k


def _day(ts: datetime) -> datetime:
    return rollups_repo.day_floor(ts)


def _insert(db: Engine, batches: list[list[Reading]]) -> None:
    for batch in batches:
        with db.begin() as conn:
            observations_repo.insert_readings(conn, batch)


def _reset(db: Engine) -> None:
    with db.begin() as conn:
        for table in (t.readings, reading_hourly, reading_daily, reading_rollup_pending):
            conn.execute(delete(table))


readings_strategy = st.lists(
    st.tuples(
        st.sampled_from(["river-1", "river-2", "air-1"]),
        st.integers(min_value=0, max_value=3 * 24 * 60 - 1),  # minutes over three days
        st.floats(min_value=-50, max_value=500, allow_nan=False, allow_infinity=False),
    ),
    min_size=1,
    max_size=120,
)


@pytest.fixture(scope="module")
def lite(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    return migrated(f"sqlite:///{tmp_path_factory.mktemp('rollups') / 'cityops.db'}")


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=readings_strategy, split=st.integers(min_value=1, max_value=4))
def test_rollups_equal_the_raw_readings_in_any_order_of_arrival(
    lite: Engine, rows: list[tuple[str, int, float]], split: int
) -> None:
    """Readings arrive in batches, out of order, some twice; the job runs between batches:
    afterwards every hour's and day's rollup equals what its raw readings give."""
    _reset(lite)
    readings = [Reading(MUNI, s, T0 + timedelta(minutes=m), round(v, 3)) for s, m, v in rows]
    batches = [readings[i::split] for i in range(split)]
    for batch in batches:
        _insert(lite, [batch])
        rollups.run_pending(lite)
    _insert(lite, [readings[:3]])  # redelivered: stored once, rolled up once
    rollups.run_pending(lite)
    stored = [Reading(MUNI, s, ts, v) for s, ts, v in _raw(lite)]
    _assert_equal(_stored(lite, reading_hourly, "hour"), _expected(stored, hour_floor))
    _assert_equal(_stored(lite, reading_daily, "day"), _expected(stored, _day))


def _raw(db: Engine) -> list[tuple[str, datetime, float]]:
    c = t.readings.c
    with db.connect() as conn:
        return [(r[0], r[1], r[2]) for r in conn.execute(select(c.sensor_id, c.ts, c.value))]


def _year_sample() -> list[Reading]:
    """Two sensors, a reading every 10 minutes over 40 days crossing a month's end."""
    start = datetime(2026, 10, 10, tzinfo=UTC)
    return [
        Reading(MUNI, s, start + timedelta(minutes=10 * i), float((i * 7 + k) % 23))
        for k, s in enumerate(("river-1", "river-2"))
        for i in range(40 * 144)
    ]


def test_rollups_equal_raw_on_both_stores_with_late_readings(db_url: str) -> None:
    db = migrated(db_url)
    readings = _year_sample()
    _insert(db, [readings[i : i + 1000] for i in range(0, len(readings), 1000)])
    assert rollups.run_pending(db) > 0
    late = [Reading(MUNI, "river-1", datetime(2026, 10, 12, 3, 5, 30, tzinfo=UTC), 99.0)]
    _insert(db, [late])
    rollups.run_pending(db)
    with db.connect() as conn:
        assert conn.execute(select(reading_rollup_pending)).first() is None
    everything = readings + late
    _assert_equal(_stored(db, reading_hourly, "hour"), _expected(everything, hour_floor))
    _assert_equal(_stored(db, reading_daily, "day"), _expected(everything, _day))
    db.dispose()


def test_a_chart_has_the_same_shape_at_every_resolution(db_url: str) -> None:
    db = migrated(db_url)
    readings = _year_sample()
    _insert(db, [readings])
    rollups.run_pending(db)
    since = datetime(2026, 10, 20, tzinfo=UTC)
    until = since + timedelta(days=3)
    with db.connect() as conn:
        got = {
            res: sensors_repo.series(conn, MUNI, "river-1", since, until, 100_000, res)
            for res in Resolution
        }
    mine = [r for r in readings if r.sensor_id == "river-1" and since <= r.ts < until]
    assert [(p.ts, p.value, p.min, p.max, p.count) for p in got[Resolution.RAW]] == [
        (r.ts, r.value, r.value, r.value, 1) for r in mine
    ]
    hours = _expected(mine, hour_floor)
    assert [p.ts for p in got[Resolution.HOUR]] == sorted(h for _, h in hours)
    assert len(got[Resolution.DAY]) == 3
    for res in (Resolution.HOUR, Resolution.DAY):
        points = got[res]
        assert sum(p.count for p in points) == len(mine)
        assert math.fsum(p.value * p.count for p in points) == pytest.approx(
            math.fsum(r.value for r in mine)
        )
        assert min(p.min for p in points) == min(r.value for r in mine)
        assert max(p.max for p in points) == max(r.value for r in mine)
    db.dispose()


@pytest.mark.parametrize(
    ("window", "raw_from", "want"),
    [
        (timedelta(hours=1), None, Resolution.RAW),
        (timedelta(days=2), None, Resolution.RAW),
        (timedelta(days=1), T0 + timedelta(hours=1), Resolution.HOUR),  # raw already gone
        (timedelta(days=7), None, Resolution.HOUR),
        (timedelta(days=62), None, Resolution.HOUR),
        (timedelta(days=365), None, Resolution.DAY),
    ],
)
def test_the_resolution_follows_the_window(
    window: timedelta, raw_from: datetime | None, want: Resolution
) -> None:
    assert sensors_repo.pick_resolution(T0, T0 + window, raw_from) is want


def test_the_job_racing_ingest_misses_nothing(db_url: str) -> None:
    """Ingest stores readings of the same hours while the job rolls them up again and again:
    once both are done the rollups equal the raw readings (the mark's lock on PostgreSQL)."""
    db = migrated(db_url)
    hour = datetime(2026, 11, 20, 10, tzinfo=UTC)
    written = [
        Reading(MUNI, f"s{i % 3}", hour + timedelta(seconds=7 * i), float(i % 13))
        for i in range(1200)
    ]
    done = threading.Event()

    failed: list[BaseException] = []

    def ingest() -> None:
        try:
            for i in range(0, len(written), 10):  # small batches, one transaction each,
                with db.begin() as conn:  # which goes on after storing (rules, state)
                    observations_repo.insert_readings(conn, written[i : i + 10])
                    time.sleep(0.003)
        except BaseException as exc:  # seen by the test, not lost in the thread
            failed.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=ingest)
    writer.start()
    runs = 0
    while not done.is_set() or runs < 3:
        rollups.run_pending(db)
        runs += 1
    writer.join()
    assert not failed, failed
    rollups.run_pending(db)
    _assert_equal(_stored(db, reading_hourly, "hour"), _expected(written, hour_floor))
    _assert_equal(_stored(db, reading_daily, "day"), _expected(written, _day))
    db.dispose()


def test_a_job_running_while_ingest_commits_leaves_the_hour_marked(db_url: str) -> None:
    """The interleaving that could lose a reading: an hour already marked, ingest stores one
    more reading of it and has not committed when the job takes the hour. The job must not
    take the mark from under ingest (PostgreSQL: the mark is locked by ingest's upsert and
    skipped; SQLite: the job waits for ingest's write lock), so a later run sees the reading."""
    db = migrated(db_url)
    hour = datetime(2026, 11, 20, 10, tzinfo=UTC)
    first = Reading(MUNI, "river-1", hour + timedelta(minutes=1), 1.0)
    second = Reading(MUNI, "river-1", hour + timedelta(minutes=2), 5.0)
    _insert(db, [[first]])  # marked, not yet rolled up
    with db.begin() as conn:
        observations_repo.insert_readings(conn, [second])
        job = threading.Thread(target=rollups.run_pending, args=(db,))
        job.start()
        job.join(timeout=1.0)  # PostgreSQL: done meanwhile; SQLite: waits for this commit
    job.join()
    rollups.run_pending(db)
    _assert_equal(_stored(db, reading_hourly, "hour"), _expected([first, second], hour_floor))
    db.dispose()


def test_the_migration_completes_the_rollups_of_an_existing_database(db_url: str) -> None:
    """Before 0012 only retention wrote hourly rows, for the hours it removed: those stay as
    they are (final, the horizon after them), the hours still raw are rolled up."""
    upgrade(db_url, "0011")
    db = make_engine(db_url)
    old_hour = datetime(2026, 11, 1, 5, tzinfo=UTC)
    readings = [
        Reading(MUNI, "river-1", datetime(2026, 11, 3, h, m, tzinfo=UTC), float(h + m))
        for h in range(3)
        for m in (0, 20, 40)
    ]
    with db.begin() as conn:
        conn.execute(
            reading_hourly.insert(),
            [
                {
                    "municipality": MUNI,
                    "sensor_id": "river-1",
                    "hour": old_hour,
                    "count": 60,
                    "min": 1.0,
                    "max": 2.0,
                    "mean": 1.5,
                }
            ],
        )
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
    upgrade(db_url)
    want = _expected(readings, hour_floor)
    want[("river-1", old_hour)] = (60, 1.0, 2.0, 1.5)
    _assert_equal(_stored(db, reading_hourly, "hour"), want)
    days = _stored(db, reading_daily, "day")
    assert days[("river-1", datetime(2026, 11, 1, tzinfo=UTC))] == (60, 1.0, 2.0, 1.5)
    assert days[("river-1", datetime(2026, 11, 3, tzinfo=UTC))][0] == len(readings)
    with db.connect() as conn:
        assert rollups_repo.horizon(conn, MUNI) == old_hour + timedelta(hours=1)
    db.dispose()
