"""Monthly partitions of ``readings`` on PostgreSQL (docs/STORAGE.md).

``readings`` is partitioned by RANGE (ts), one partition per UTC month, named
``readings_YYYY_MM`` in the schema ``cityops_readings`` (outside the application's schema, so
that the table definitions and the migrations compare equal), plus a DEFAULT partition for
readings of months that have none (far future, or months already dropped). The housekeeping
thread creates the partitions of the coming months; a month's readings that reached the default
partition first are moved into its partition when that is created."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, text

SCHEMA = "cityops_readings"
DEFAULT = "readings_default"
AHEAD_MONTHS = 3
"""Partitions exist for the current month and this many after it."""

_NAME = re.compile(r"^readings_(\d{4})_(\d{2})$")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: datetime
    end: datetime

    @property
    def qualified(self) -> str:
        return f"{SCHEMA}.{self.name}"


def month_floor(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def next_month(month: datetime) -> datetime:
    return (
        month.replace(year=month.year + 1, month=1)
        if month.month == 12
        else month.replace(month=month.month + 1)
    )


def partition_of(month: datetime) -> Partition:
    start = month_floor(month)
    return Partition(f"readings_{start:%Y_%m}", start, next_month(start))


def _literal(at: datetime) -> str:
    """A timestamp for DDL, which takes no parameters; only datetimes made here reach it."""
    return f"'{at.astimezone(UTC):%Y-%m-%d %H:%M:%S}+00'"


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql"


def partitions(conn: Connection) -> list[Partition]:
    """The monthly partitions that exist, oldest first (the default one left out)."""
    names = conn.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE i.inhparent = 'readings'::regclass AND n.nspname = :schema"
        ),
        {"schema": SCHEMA},
    ).scalars()
    found = []
    for name in names:
        m = _NAME.match(name)
        if m:
            found.append(partition_of(datetime(int(m[1]), int(m[2]), 1, tzinfo=UTC)))
    return sorted(found, key=lambda p: p.start)


def lock(conn: Connection) -> None:
    """One process at a time changes the partitions (transaction-scoped advisory lock)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('cityops.readings.partitions'))"))


def create_default(conn: Connection) -> None:
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    conn.execute(
        text(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{DEFAULT} PARTITION OF readings DEFAULT")
    )


def ensure(conn: Connection, months: list[datetime]) -> list[str]:
    """Create the partitions of these months where missing; the names created. Readings of
    such a month already in the default partition move into the new partition."""
    lock(conn)
    have = {p.name for p in partitions(conn)}
    made = []
    for month in sorted({month_floor(m) for m in months}):
        p = partition_of(month)
        if p.name in have:
            continue
        bounds = f"FROM ({_literal(p.start)}) TO ({_literal(p.end)})"
        waiting = conn.execute(
            text(f"SELECT 1 FROM {SCHEMA}.{DEFAULT} WHERE ts >= :s AND ts < :e LIMIT 1"),
            {"s": p.start, "e": p.end},
        ).first()
        if waiting is None:
            conn.execute(
                text(f"CREATE TABLE {p.qualified} PARTITION OF readings FOR VALUES {bounds}")
            )
        else:
            conn.execute(text(f"CREATE TABLE {p.qualified} (LIKE readings INCLUDING DEFAULTS)"))
            conn.execute(
                text(
                    f"WITH moved AS (DELETE FROM {SCHEMA}.{DEFAULT} WHERE ts >= :s AND ts < :e "
                    f"RETURNING *) INSERT INTO {p.qualified} SELECT * FROM moved"
                ),
                {"s": p.start, "e": p.end},
            )
            conn.execute(
                text(f"ALTER TABLE readings ATTACH PARTITION {p.qualified} FOR VALUES {bounds}")
            )
        made.append(p.name)
    return made


def ensure_ahead(conn: Connection, now: datetime, ahead: int = AHEAD_MONTHS) -> list[str]:
    months = [month_floor(now)]
    for _ in range(ahead):
        months.append(next_month(months[-1]))
    return ensure(conn, months)


def oldest_in_default(conn: Connection) -> datetime | None:
    value = conn.execute(text(f"SELECT min(ts) FROM {SCHEMA}.{DEFAULT}")).scalar_one_or_none()
    return None if value is None else value.astimezone(UTC)


def lock_exclusive(conn: Connection, qualified: str) -> None:
    """Wait for the writers of this partition and keep new ones out until the transaction ends."""
    conn.execute(text(f"LOCK TABLE {qualified} IN ACCESS EXCLUSIVE MODE"))


def drop(conn: Connection, p: Partition) -> int:
    """Drop a monthly partition (locked by the caller); how many readings it held."""
    count = int(conn.execute(text(f"SELECT count(*) FROM {p.qualified}")).scalar_one())
    conn.execute(text(f"DROP TABLE {p.qualified}"))
    return count


def delete_from_default(conn: Connection, start: datetime, end: datetime) -> int:
    """Remove the default partition's readings of [start, end) (locked by the caller)."""
    result = conn.execute(
        text(f"DELETE FROM {SCHEMA}.{DEFAULT} WHERE ts >= :s AND ts < :e"), {"s": start, "e": end}
    )
    return int(result.rowcount or 0)


def sizes(conn: Connection) -> dict[str, int]:
    """Bytes on disk per partition, indexes included (the benchmark's disk per reading)."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'readings'::regclass"
        )
    )
    return {r[0]: int(r[1]) for r in rows}
