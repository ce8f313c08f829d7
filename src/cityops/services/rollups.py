"""Keeping the hourly and daily rollups of readings up to date, and the monthly partitions of
``readings`` on PostgreSQL: created ahead, dropped whole when every municipality is done with
them (docs/STORAGE.md). Run by the housekeeping thread and by retention."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select

from cityops.store import partitions_repo as parts
from cityops.store import rollups_repo as repo
from cityops.store import tables as t

log = logging.getLogger(__name__)

BATCH = 200
"""Marked hours taken per transaction. A transaction holds SQLite's write lock, and on
PostgreSQL the marks it took (an ingest storing a reading of one of those hours waits for it):
200 hours take about 35-75 ms here, 5,000 took 0.6-0.7 s, a stall of every ingest commit once
a minute with a thousand sensors (docs/BENCHMARKS.md). The whole job takes as long either way."""
MIN_PAUSE_S = 0.01


def run_pending(db: Engine, *, max_batches: int | None = None) -> int:
    """Recompute the rollups of every hour ingest marked; the hourly rows written. After each
    full transaction the job waits as long as it took (``MIN_PAUSE_S`` at least): a writer
    waiting for the lock (SQLite's busy handler polls with growing sleeps) gets it in between."""
    written = batches = 0
    while max_batches is None or batches < max_batches:
        started = time.monotonic()
        with db.begin() as conn:
            taken = repo.take_pending(conn, BATCH)
            if not taken:
                break
            written += repo.roll_up(conn, taken)
        batches += 1
        if len(taken) == BATCH:  # more may be waiting
            time.sleep(max(MIN_PAUSE_S, time.monotonic() - started))
    return written


def ensure_partitions(db: Engine, now: datetime | None = None) -> list[str]:
    """The partitions of this month and the next ones (PostgreSQL; nothing on SQLite)."""
    with db.begin() as conn:
        if not parts.is_partitioned(conn):
            return []
        made = parts.ensure_ahead(conn, now or datetime.now(UTC))
    if made:
        log.info("created reading partitions %s", ", ".join(made))
    return made


@dataclass(slots=True)
class Dropped:
    """What removing old months did: the partitions dropped and the readings they held."""

    partitions: list[str] = field(default_factory=list)
    readings: int = 0


def _finalise(conn: Connection, start: datetime, end: datetime) -> None:
    """Roll up every marked hour of [start, end) from the raw readings (locked by the caller
    against writers). Every committed mark counts, also one a writer holds while it waits for
    the month's lock: that writer's reading comes after the month is done and is merged as a
    late one, its mark stays (taking it would wait for the writer, which waits for us)."""
    repo.roll_up(conn, repo.marked(conn, start, end))
    while repo.take_pending(conn, BATCH, start, end):
        pass


def drop_months_before(db: Engine, before: datetime) -> Dropped:
    """On PostgreSQL, remove the raw readings of every whole UTC month before ``before``: a
    month's hours are rolled up first, then its partition is dropped (or, for a month without
    one, its rows deleted from the default partition), in one transaction per month, with the
    month locked against writers. The installation's horizon moves to the month's end: a
    reading of such a month that arrives later is merged into the hourly rollups by retention.
    Nothing on SQLite (retention removes readings by the hour there)."""
    done = Dropped()
    with db.connect() as conn:
        if not parts.is_partitioned(conn):
            return done
        existing = parts.partitions(conn)
        oldest_default = parts.oldest_in_default(conn)
        done_until = repo.horizon(conn, repo.INSTALLATION)
    if done_until is not None and oldest_default is not None:
        # readings of months already done are late ones: retention merges them
        oldest_default = max(oldest_default, done_until)
    months = {p.start for p in existing if p.end <= before}
    if oldest_default is not None:
        month = parts.month_floor(oldest_default)
        while parts.next_month(month) <= before:
            months.add(month)
            month = parts.next_month(month)
    by_start = {p.start: p for p in existing}
    for start in sorted(months):
        p = parts.partition_of(start)
        with db.begin() as conn:
            parts.lock(conn)
            mine = by_start.get(start)
            parts.lock_exclusive(
                conn, mine.qualified if mine else f"{parts.SCHEMA}.{parts.DEFAULT}"
            )
            _finalise(conn, p.start, p.end)
            if mine is not None:
                done.readings += parts.drop(conn, mine)
                done.partitions.append(mine.name)
            done.readings += parts.delete_from_default(conn, p.start, p.end)
            repo.set_horizon(conn, repo.INSTALLATION, p.end)
    return done


def all_municipalities(db: Engine, also: Iterable[str] = ()) -> set[str]:
    """The municipalities the database holds (and ``also``)."""
    with db.connect() as conn:
        known = set(conn.execute(select(t.municipalities.c.id)).scalars())
    return known | set(also)
