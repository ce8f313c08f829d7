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

MAX_BATCH = 200
"""Marked hours taken per transaction at most. A transaction holds SQLite's write lock, and on
PostgreSQL the marks it took (an ingest storing a reading of one of those hours waits for it):
5,000 hours took 0.6-0.7 s here, a stall of every ingest commit once a minute with a thousand
sensors (docs/BENCHMARKS.md). The whole job takes as long either way."""
MIN_BATCH = 5
TARGET_S = 0.015
"""How long one transaction should take. What an hour costs to roll up follows how many readings
it holds: 200 hours took 35-75 ms for a gauge a minute, and 80-115 ms right after a burst of
single readings, while every ingest batch waited behind them (a trigger-to-live-feed p99 of
150 ms at 1,000 readings/s). So each transaction takes as many hours as the last one's pace
says fit in this time (:func:`next_size`)."""
MIN_PAUSE_S = 0.01


def next_size(size: int, took_s: float) -> int:
    """The next transaction's marked hours after ``size`` took ``took_s``: as many as fit in
    :data:`TARGET_S` at that pace, at most twice as many, within [MIN_BATCH, MAX_BATCH]."""
    fit = int(size * TARGET_S / took_s) if took_s > 0 else MAX_BATCH
    return max(MIN_BATCH, min(MAX_BATCH, size * 2, fit))


def run_pending(db: Engine) -> int:
    """Recompute the rollups of the hours ingest had marked when the run started; the hourly
    rows written. Each transaction takes about :data:`TARGET_S` (:func:`next_size`), and after
    each full one the job waits as long as it took (``MIN_PAUSE_S`` at least): a writer waiting
    for the lock (SQLite's busy handler polls with growing sleeps) gets it in between. Marks made
    meanwhile (the sensors of the current hour reporting again) wait for the next run: however
    fast ingest marks hours, a run ends and the housekeeping after it runs."""
    with db.connect() as conn:
        left = repo.pending_count(conn)
    written, size = 0, MIN_BATCH
    while left > 0:
        ask = min(size, left)
        started = time.monotonic()
        with db.begin() as conn:
            taken = repo.take_pending(conn, ask)
            if taken:
                written += repo.roll_up(conn, taken)
        took = time.monotonic() - started
        left -= len(taken)
        if len(taken) < ask or left <= 0:
            break  # nothing more was waiting, or the run's share is done
        size = next_size(ask, took)
        time.sleep(max(MIN_PAUSE_S, took))
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
    while repo.take_pending(conn, MAX_BATCH, start, end):
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
