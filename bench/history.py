"""History benchmark: a sensor's chart over a year of one-minute readings, and disk per reading.

    python -m bench.history                       # 500 sensors x 365 days = 263 M rows, both stores
    python -m bench.history --scale 0.002 --days 3 --store sqlite   # a tiny run

Generates N sensors x D days of one-minute readings (N = 500 x --scale, at least one) straight
into a migrated database (SQLite: executemany in one transaction; PostgreSQL, started
by the test harness with fsync on: COPY into the monthly partitions), computes their hourly and
daily rollups with the same statements the rollup job uses, then times the chart query the API
runs (``sensors_repo.pick_resolution`` + ``sensors_repo.series``) for windows from an hour to a
year ending at the newest reading, on random sensors. Reports per window the resolution, points
and p50 / p99 / max milliseconds, and the disk per reading (raw table with its index; rollups
separately). Prints one JSON object at the end.

``--charts-after FILE`` waits, once the data is loaded and rolled up, until FILE exists before
timing the charts: the long load can run beside other work and the charts be timed alone.
``--durable`` runs PostgreSQL as in production (fsync, synchronous_commit, full_page_writes on).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from tests.harness import PostgresServer

from cityops.store import partitions_repo as parts
from cityops.store import rollups_repo, sensors_repo
from cityops.store.db import make_engine, upgrade

MUNI = "benchtown"
END = datetime(2026, 12, 1, tzinfo=UTC)
WINDOWS = {
    "1h": timedelta(hours=1),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "365d": timedelta(days=365),
}
CHUNK = 50_000
COMMIT_EVERY = 2_000_000


def _rows(sensors: int, days: int) -> Iterator[tuple[str, str, datetime, float]]:
    """Sensor by sensor, minute by minute: a daily wave plus noise."""
    start = END - timedelta(days=days)
    rng = random.Random(11)
    for s in range(sensors):
        base = rng.uniform(0, 5)
        for minute in range(days * 1440):
            at = start + timedelta(minutes=minute)
            yield MUNI, f"s{s}", at, round(base + (minute % 1440) / 720 + rng.random() * 0.1, 3)


def _fill_sqlite(db: Engine, sensors: int, days: int) -> None:
    """Through the DB-API's executemany, timestamps in the text form SQLAlchemy stores on
    SQLite (naive UTC with microseconds): about ten times the rate of Core inserts. Committed
    every ``COMMIT_EVERY`` rows, so that the write-ahead log is checkpointed along the way and
    never holds the whole load (at full scale it would double the 30 GB on disk)."""
    raw = db.raw_connection()
    try:
        cur = raw.cursor()
        batch: list[tuple[str, str, str, float]] = []
        done = 0
        for m, s, ts, v in _rows(sensors, days):
            batch.append((m, s, ts.strftime("%Y-%m-%d %H:%M:%S.%f"), v))
            if len(batch) == CHUNK:
                cur.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)", batch)
                batch = []
                done += CHUNK
                if done % COMMIT_EVERY == 0:
                    raw.commit()
        if batch:
            cur.executemany("INSERT INTO readings VALUES (?, ?, ?, ?)", batch)
        raw.commit()
    finally:
        raw.close()


def _fill_postgres(db: Engine, sensors: int, days: int) -> None:
    with db.begin() as conn:
        months = [END - timedelta(days=d) for d in range(0, days + 31, 28)]
        parts.ensure(conn, months)
    raw = db.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy("COPY readings (municipality, sensor_id, ts, value) FROM STDIN") as copy:
            for row in _rows(sensors, days):
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def _roll_up(db: Engine, days: int) -> None:
    """Hourly rollups a month at a time, then the daily ones (as the job would have)."""
    start = END - timedelta(days=days)
    while start < END:
        end = min(start + timedelta(days=31), END)
        with db.begin() as conn:
            rollups_repo.rebuild_hourly(conn, MUNI, None, start, end)
            rollups_repo.rebuild_daily(conn, MUNI, None, start, end)
        start = end


def _time_charts(db: Engine, sensors: int, repeat: int) -> dict[str, dict[str, Any]]:
    rng = random.Random(5)
    out: dict[str, dict[str, Any]] = {}
    with db.connect() as conn:
        for name, window in WINDOWS.items():
            took: list[float] = []
            points = 0
            chosen = sensors_repo.Resolution.RAW
            for _ in range(repeat):
                sensor = f"s{rng.randrange(sensors)}"
                t0 = time.perf_counter()
                raw_from = rollups_repo.horizon(conn, MUNI)
                chosen = sensors_repo.pick_resolution(END - window, END, raw_from)
                got = sensors_repo.series(conn, MUNI, sensor, END - window, END, 100_000, chosen)
                took.append((time.perf_counter() - t0) * 1000)
                points = len(got)
            took.sort()
            out[name] = {
                "resolution": chosen.value,
                "points": points,
                "p50_ms": round(statistics.median(took), 2),
                "p99_ms": round(took[min(len(took) - 1, int(len(took) * 0.99))], 2),
                "max_ms": round(took[-1], 2),
            }
    return out


def _disk(db: Engine, path: Path | None) -> dict[str, int]:
    with db.connect() as conn:
        if path is not None:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            sizes: dict[str, int] = dict(
                conn.execute(
                    text(
                        "SELECT name, sum(pgsize) FROM dbstat WHERE name IN ('readings', "
                        "'sqlite_autoindex_readings_1', 'reading_hourly', "
                        "'sqlite_autoindex_reading_hourly_1', 'reading_daily', "
                        "'sqlite_autoindex_reading_daily_1') GROUP BY name"
                    )
                ).all()
            )
            raw = sizes.get("readings", 0) + sizes.get("sqlite_autoindex_readings_1", 0)
            roll = sum(v for k, v in sizes.items() if "reading_" in k)
            return {
                "raw_bytes": int(raw),
                "rollup_bytes": int(roll),
                "file_bytes": path.stat().st_size,
            }
        raw = sum(parts.sizes(conn).values())
        roll = conn.execute(
            text(
                "SELECT pg_total_relation_size('reading_hourly') "
                "+ pg_total_relation_size('reading_daily')"
            )
        ).scalar_one()
        return {"raw_bytes": int(raw), "rollup_bytes": int(roll)}


def run_store(
    store: str,
    sensors: int,
    days: int,
    repeat: int,
    workdir: Path,
    *,
    durable: bool = False,
    charts_after: Path | None = None,
) -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        path: Path | None = None
        if store == "sqlite":
            path = workdir / "history.db"
            url = f"sqlite:///{path}"
        else:
            pg = stack.enter_context(PostgresServer(durable=durable))
            url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
        upgrade(url)
        db = make_engine(url)
        print(f"{store}: loading {sensors * days * 1440:,} readings", flush=True)
        rows = sensors * days * 1440
        t0 = time.perf_counter()
        (_fill_sqlite if store == "sqlite" else _fill_postgres)(db, sensors, days)
        load_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        _roll_up(db, days)
        rollup_s = time.perf_counter() - t0
        if store == "postgresql":
            with db.connect() as conn:
                conn.execute(text("ANALYZE"))
        if charts_after is not None:
            print(f"{store}: loaded; charts timed once {charts_after} exists", flush=True)
            while not charts_after.exists():
                time.sleep(5)
        charts = _time_charts(db, sensors, repeat)
        disk = _disk(db, path)
        db.dispose()
    result = {
        "store": store,
        "sensors": sensors,
        "days": days,
        "rows": rows,
        "load_s": round(load_s, 1),
        "load_rows_per_s": round(rows / load_s),
        "rollup_s": round(rollup_s, 1),
        "durable": store == "postgresql" and durable,
        "charts": charts,
        "disk": disk,
        "raw_bytes_per_reading": round(disk["raw_bytes"] / rows, 1),
        "rollup_bytes_per_reading": round(disk["rollup_bytes"] / rows, 2),
    }
    print(f"{store}: {rows:,} readings loaded in {load_s:.1f} s, rolled up in {rollup_s:.1f} s")
    for name, c in charts.items():
        print(
            f"  {name:>5} {c['resolution']:>4} {c['points']:>6} points  p50 {c['p50_ms']:8.2f} ms"
            f"  p99 {c['p99_ms']:8.2f} ms  max {c['max_ms']:8.2f} ms"
        )
    print(
        f"  disk: {result['raw_bytes_per_reading']} B/reading raw (with its index), "
        f"{result['rollup_bytes_per_reading']} B/reading in rollups"
    )
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--store", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--sensors", type=int, default=500)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies --sensors")
    ap.add_argument("--repeat", type=int, default=50, help="charts timed per window")
    ap.add_argument("--durable", action="store_true", help="PostgreSQL with fsync etc. on")
    ap.add_argument("--charts-after", type=Path, help="time the charts once this file exists")
    args = ap.parse_args()
    sensors = max(1, round(args.sensors * args.scale))
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    with tempfile.TemporaryDirectory(prefix="cityops-history-") as tmp:
        results = [
            run_store(
                s,
                sensors,
                args.days,
                args.repeat,
                Path(tmp),
                durable=args.durable,
                charts_after=args.charts_after,
            )
            for s in stores
        ]
    print(json.dumps({"bench": "history", "results": results}))


if __name__ == "__main__":
    main()
