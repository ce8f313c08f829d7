"""The rollup job in short transactions with a pause after each (services/rollups.py): an
ingest that commits meanwhile gets in between them instead of waiting for the whole job, and the
job still rolls up every marked hour (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, event, func, select

from cityops.domain.observations import Reading
from cityops.services import rollups
from cityops.store import observations_repo
from cityops.store.tables_audit import reading_hourly
from cityops.store.tables_rollups import reading_rollup_pending
from tests.audit.support import migrated
from tests.town import MUNI

HOUR = datetime(2026, 11, 20, 0, tzinfo=UTC)


def _mark_hours(db: Engine, sensors: int, hours: int) -> None:
    """One reading in each of ``hours`` hours of ``sensors`` sensors: as many marked hours."""
    rows = [
        Reading(MUNI, f"s{s}", HOUR + timedelta(hours=h, minutes=1), float(s))
        for s in range(sensors)
        for h in range(hours)
    ]
    with db.begin() as conn:
        observations_repo.insert_readings(conn, rows)


def _count(db: Engine, table: object) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_an_ingest_commit_gets_in_between_the_jobs_transactions(db_url: str) -> None:
    db = migrated(db_url)
    _mark_hours(db, 25, 40)  # 1,000 marked hours: five of the job's transactions
    order: list[str] = []
    lock = threading.Lock()

    def commit(conn: object) -> None:
        with lock:
            order.append(threading.current_thread().name)

    event.listen(db, "commit", commit)
    job = threading.Thread(target=rollups.run_pending, args=(db,), name="job")
    stop = threading.Event()

    def ingest() -> None:  # one reading a commit, each in an hour of its own, until the job ends
        n = 0
        while not stop.is_set():
            late = Reading(MUNI, "ingest", HOUR + timedelta(days=30, hours=n), 1.0)
            with db.begin() as conn:
                observations_repo.insert_readings(conn, [late])
            n += 1

    writer = threading.Thread(target=ingest, name="ingest")
    job.start()
    writer.start()
    job.join(120)
    stop.set()
    writer.join(30)
    event.remove(db, "commit", commit)
    jobs = [i for i, name in enumerate(order) if name == "job"]
    assert len(jobs) >= 5  # 200 hours a transaction
    between = [name for name in order[jobs[0] : jobs[-1]] if name == "ingest"]
    assert between, "no ingest commit got in while the job ran"
    rollups.run_pending(db)  # the writer's own hours
    assert _count(db, reading_rollup_pending) == 0
    assert _count(db, reading_hourly) == 25 * 40 + len([n for n in order if n == "ingest"])
    db.dispose()
