"""The rollup job in short transactions with a pause after each (services/rollups.py): an
ingest that commits meanwhile gets in between them instead of waiting for the whole job, and the
job still rolls up every marked hour (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
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
    assert len(jobs) >= 5  # at most 200 hours a transaction
    between = [name for name in order[jobs[0] : jobs[-1]] if name == "ingest"]
    assert between, "no ingest commit got in while the job ran"
    rollups.run_pending(db)  # the writer's own hours
    assert _count(db, reading_rollup_pending) == 0
    assert _count(db, reading_hourly) == 25 * 40 + len([n for n in order if n == "ingest"])
    db.dispose()


def test_the_next_transaction_fits_the_target_at_the_last_ones_pace() -> None:
    assert rollups.next_size(100, rollups.TARGET_S) == 100
    assert rollups.next_size(100, rollups.TARGET_S * 4) == 25
    assert rollups.next_size(100, rollups.TARGET_S / 10) == 200  # at most twice as many
    assert rollups.next_size(150, 0.0) == rollups.MAX_BATCH
    assert rollups.next_size(10, 5.0) == rollups.MIN_BATCH


def test_slow_hours_make_smaller_transactions_and_every_hour_is_rolled_up(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hours that take 2 ms each to roll up (many readings each): the job's transactions shrink
    to about TARGET_S (7 hours) instead of holding the write lock for MAX_BATCH of them."""
    db = migrated(db_url)
    _mark_hours(db, 10, 30)  # 300 marked hours
    sizes: list[int] = []
    take, roll = rollups.repo.take_pending, rollups.repo.roll_up

    def taken(*args: Any, **kwargs: Any) -> Any:
        keys = take(*args, **kwargs)
        sizes.append(len(keys))
        return keys

    def slow(conn: Any, keys: Any) -> int:
        time.sleep(0.002 * len(keys))
        return roll(conn, keys)

    monkeypatch.setattr(rollups.repo, "take_pending", taken)
    monkeypatch.setattr(rollups.repo, "roll_up", slow)
    rollups.run_pending(db)
    assert sum(sizes) == 300
    assert max(sizes) <= 2 * rollups.TARGET_S / 0.002  # never near MAX_BATCH (200)
    assert _count(db, reading_rollup_pending) == 0
    assert _count(db, reading_hourly) == 300
    db.dispose()


def test_a_run_takes_the_marks_present_at_its_start_and_ends(db_url: str) -> None:
    """A writer that marks a new hour in every one of the job's transactions (as the current
    hour's sensors do, reporting again): the run still ends, having rolled up every mark it
    found; what was marked meanwhile waits for the next run."""
    db = migrated(db_url)
    _mark_hours(db, 4, 10)  # 40 marked hours
    made: list[datetime] = []
    roll = rollups.repo.roll_up

    def remarking(conn: Any, keys: Any) -> int:
        made.append(HOUR + timedelta(days=30, hours=len(made)))
        rollups.repo.mark_pending(conn, [(MUNI, "late", made[-1])])
        return roll(conn, keys)

    rollups.repo.roll_up = remarking  # type: ignore[assignment]
    try:
        done = threading.Thread(target=rollups.run_pending, args=(db,))
        done.start()
        done.join(60)
        assert not done.is_alive(), "the run chased the writer"
    finally:
        rollups.repo.roll_up = roll  # type: ignore[assignment]
    assert _count(db, reading_hourly) == 40
    with db.connect() as conn:
        left = rollups.repo.marked(conn, HOUR, HOUR + timedelta(days=60))
    assert sorted(hour for _m, _s, hour in left) == made  # only the writer's, all of them
    assert len(made) >= 3  # sizes 5, then more: several transactions
    rollups.run_pending(db)  # the next run (no writer now) takes them
    assert _count(db, reading_rollup_pending) == 0
    db.dispose()
