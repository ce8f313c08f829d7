"""Retention while ingest stores late readings of the same old hours: every reading ends up
counted exactly once, in the aggregates or still raw (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityops.domain.observations import Reading
from cityops.domain.retention import RetentionPolicy
from cityops.services import retention
from cityops.services.retention import EvidenceStore
from cityops.store import observations_repo
from cityops.store import tables as t
from cityops.store.tables_audit import reading_hourly
from tests.audit.support import migrated
from tests.town import MUNI, T0

NOW = T0 + timedelta(days=30)
POLICY = RetentionPolicy(
    readings_days=10, readings_hourly_days=0, events_days=0, dead_letters_days=0, audit_years=0
)
LATE = 150


def test_late_readings_during_retention_are_neither_lost_nor_counted_twice(
    db_url: str, tmp_path: Path
) -> None:
    db = migrated(db_url)
    first = [Reading(MUNI, "river-1", T0 + timedelta(seconds=37 * i), 1.0) for i in range(3000)]
    with db.begin() as conn:
        observations_repo.insert_readings(conn, first)
    done = threading.Event()

    def late_ingest() -> None:
        for i in range(LATE):  # one transaction each, like the pipeline's batches
            with db.begin() as conn:
                ts = T0 + timedelta(seconds=37 * i + 1)
                observations_repo.insert_readings(conn, [Reading(MUNI, "river-1", ts, 2.0)])
        done.set()

    writer = threading.Thread(target=late_ingest)
    writer.start()
    store = EvidenceStore(tmp_path, 30.0)
    runs = 0
    while not done.is_set() or runs < 2:
        assert retention.run(db, MUNI, POLICY, store, now=NOW).ok
        runs += 1
    writer.join()
    retention.run(db, MUNI, POLICY, store, now=NOW)
    with db.connect() as conn:
        aggregated = conn.execute(select(func.coalesce(func.sum(reading_hourly.c.count), 0)))
        raw = conn.execute(select(func.count()).select_from(t.readings))
        total = conn.execute(
            select(func.sum(reading_hourly.c.mean * reading_hourly.c.count))
        ).scalar_one()
        counts = (aggregated.scalar_one(), raw.scalar_one(), total)
        assert counts[:2] == (len(first) + LATE, 0), counts
    assert total == pytest.approx(len(first) * 1.0 + LATE * 2.0)
    db.dispose()
