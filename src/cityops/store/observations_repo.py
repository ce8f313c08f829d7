"""Readings, events, dead letters and rule state: the rows the ingest path writes in batches."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Executable

from cityops.domain.observations import Event, Reading
from cityops.store import rollups_repo
from cityops.store import tables as t
from cityops.store.bulk import BulkStatement
from cityops.store.sql import insert_ignore


def _ignore(table: Table) -> Callable[[Dialect], Executable]:
    def build(dialect: Dialect) -> Executable:
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        return insert(table).on_conflict_do_nothing()

    return build


_insert_readings = BulkStatement(
    _ignore(t.readings),
    ["municipality", "sensor_id", "ts", "value"],
    arrays="INSERT INTO readings (municipality, sensor_id, ts, value) "
    "SELECT * FROM unnest(%(municipality)b::varchar[], %(sensor_id)b::varchar[], "
    "%(ts)b::timestamptz[], %(value)b::float8[]) ON CONFLICT DO NOTHING",
)


def insert_readings(conn: Connection, readings: Sequence[Reading]) -> None:
    """Store readings in one statement; a reading already stored (same sensor and time) is kept.
    Their hours are marked for the rollup job in the same transaction (docs/STORAGE.md)."""
    rollups_repo.mark_pending(
        conn, rollups_repo.keys_of((r.municipality, r.sensor_id, r.ts) for r in readings)
    )
    _insert_readings.execute(conn, [(r.municipality, r.sensor_id, r.ts, r.value) for r in readings])


@dataclass(frozen=True, slots=True)
class SensorLatest:
    municipality: str
    sensor_id: str
    value: float
    ts: datetime
    received_at: datetime


_update_latest = BulkStatement(
    lambda _dialect: (
        update(t.sensors)
        .where(
            t.sensors.c.municipality == bindparam("m"),
            t.sensors.c.id == bindparam("sid"),
            or_(t.sensors.c.last_ts.is_(None), t.sensors.c.last_ts < bindparam("ts")),
        )
        .values(
            last_value=bindparam("v"), last_ts=bindparam("ts"), last_received_at=bindparam("rcv")
        )
    ),
    ["m", "sid", "v", "ts", "rcv"],
    arrays="UPDATE sensors SET last_value = u.v, last_ts = u.ts, last_received_at = u.rcv "
    "FROM unnest(%(m)b::varchar[], %(sid)b::varchar[], %(v)b::float8[], "
    "%(ts)b::timestamptz[], %(rcv)b::timestamptz[]) AS u(m, sid, v, ts, rcv) "
    "WHERE sensors.municipality = u.m AND sensors.id = u.sid "
    "AND (sensors.last_ts IS NULL OR sensors.last_ts < u.ts)",
)


def update_sensor_latest(conn: Connection, latest: Iterable[SensorLatest]) -> None:
    """Make these the sensors' current values, each only where it is newer than the stored one
    (a backfilled or late reading is kept in ``readings`` but replaces nothing)."""
    _update_latest.execute(
        conn, [(x.municipality, x.sensor_id, x.value, x.ts, x.received_at) for x in latest]
    )


def sensor_latest(conn: Connection, municipality: str) -> dict[str, SensorLatest]:
    """The current value of each sensor of ``municipality`` that has one."""
    c = t.sensors.c
    rows = conn.execute(
        select(c.id, c.last_value, c.last_ts, c.last_received_at).where(
            c.municipality == municipality,
            c.active,
            c.last_ts.is_not(None),
            c.last_value.is_not(None),
        )
    )
    return {
        r.id: SensorLatest(
            municipality, r.id, r.last_value, r.last_ts, r.last_received_at or r.last_ts
        )
        for r in rows
    }


def readings_between(
    conn: Connection,
    municipality: str,
    sensor_id: str,
    since: datetime,
    until: datetime | None,
    limit: int,
) -> list[tuple[datetime, float]]:
    """A sensor's readings from ``since`` up to ``until`` (excluded), the newest ``limit`` of
    them, oldest first."""
    c = t.readings.c
    q = select(c.ts, c.value).where(
        c.municipality == municipality, c.sensor_id == sensor_id, c.ts >= since
    )
    if until is not None:
        q = q.where(c.ts < until)
    rows = conn.execute(q.order_by(c.ts.desc()).limit(limit)).all()
    return [(r.ts, r.value) for r in reversed(rows)]


def new_event_ids(conn: Connection, municipality: str, event_ids: Sequence[str]) -> set[str]:
    """Those of ``event_ids`` not stored yet (a redelivered event must not trigger twice)."""
    if not event_ids:
        return set()
    known = conn.execute(
        select(t.events.c.event_id).where(
            t.events.c.municipality == municipality, t.events.c.event_id.in_(event_ids)
        )
    ).scalars()
    return set(event_ids) - set(known)


def insert_events(conn: Connection, events: Sequence[Event], received_at: datetime) -> None:
    insert_ignore(
        conn,
        t.events,
        [
            {
                "municipality": e.municipality,
                "event_id": e.event_id,
                "source": e.source.value,
                "source_id": e.source_id,
                "kind": e.kind,
                "ts": e.ts,
                "lon": e.position.lon if e.position else None,
                "lat": e.position.lat if e.position else None,
                "zone": e.zone,
                "confidence": e.confidence,
                "attributes": dict(e.attributes),
                "received_at": received_at,
            }
            for e in events
        ],
    )


def mark_camera_seen(
    conn: Connection, municipality: str, camera_ids: Iterable[str], at: datetime
) -> None:
    rows = [{"m": municipality, "cid": c, "at": at} for c in camera_ids]
    if rows:
        conn.execute(
            update(t.cameras)
            .where(t.cameras.c.municipality == bindparam("m"), t.cameras.c.id == bindparam("cid"))
            .values(last_event_at=bindparam("at")),
            rows,
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    received_at: datetime
    source: str
    topic: str
    reason_code: str
    reason: str
    payload: bytes
    municipality: str | None = None


@dataclass(frozen=True, slots=True)
class DeadLetterBounds:
    """What the dead-letter table may hold (``CITYOPS_DEAD_LETTER_*``)."""

    max_age: timedelta | None = timedelta(days=7)
    max_count: int = 100_000
    """Per installation."""
    max_bytes: int = 256 * 1024 * 1024
    """Total stored payload."""
    payload_bytes: int = 16384
    """A longer payload is stored cut to this many bytes (its size and SHA-256 are kept)."""


DEFAULT_BOUNDS = DeadLetterBounds()


def _storable(text: str) -> str:
    """Hostile input kept as text: NUL, which PostgreSQL cannot store, is written as ``\\x00``
    and lone surrogates, which no driver can encode, as ``\\udc80`` (a dead letter must never
    fail to be written, or the message behind it would block)."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


def insert_dead_letters(
    conn: Connection,
    letters: Sequence[DeadLetter],
    payload_limit: int = DEFAULT_BOUNDS.payload_bytes,
) -> None:
    if not letters:
        return
    conn.execute(
        t.dead_letters.insert(),
        [
            {
                "municipality": d.municipality,
                "received_at": d.received_at,
                "source": d.source,
                "topic": _storable(d.topic[:1000]),
                "reason_code": d.reason_code,
                "reason": _storable(d.reason[:4000]),
                "payload": _storable(d.payload[:payload_limit].decode("utf-8", "replace")),
                "payload_size": len(d.payload),
                "payload_sha256": hashlib.sha256(d.payload).hexdigest(),
            }
            for d in letters
        ],
    )


def list_dead_letters(
    conn: Connection, municipality: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest dead letters of ``municipality`` (None: those that named none)."""
    c = t.dead_letters.c
    mine = c.municipality.is_(None) if municipality is None else c.municipality == municipality
    rows = conn.execute(select(t.dead_letters).where(mine).order_by(c.id.desc()).limit(limit))
    return [dict(r) for r in rows.mappings()]


def prune_dead_letters(conn: Connection, bounds: DeadLetterBounds, now: datetime) -> int:
    """Delete the oldest dead letters beyond the bounds; how many went. Letters are dropped
    oldest first (by id), so nothing younger than a kept letter is ever removed."""
    c = t.dead_letters.c
    gone = 0
    if bounds.max_age is not None:
        gone += conn.execute(
            delete(t.dead_letters).where(c.received_at < now - bounds.max_age)
        ).rowcount
    cut = conn.execute(
        select(c.id).order_by(c.id.desc()).offset(bounds.max_count).limit(1)
    ).scalar()
    if cut is not None:
        gone += conn.execute(delete(t.dead_letters).where(c.id <= cut)).rowcount
    stored = case(
        (c.payload_size > bounds.payload_bytes, bounds.payload_bytes), else_=c.payload_size
    )
    total = conn.execute(select(func.coalesce(func.sum(stored), 0))).scalar_one()
    if total > bounds.max_bytes:
        newest_first = select(
            c.id, func.sum(stored).over(order_by=c.id.desc()).label("kept")
        ).subquery()
        cut = conn.execute(
            select(func.max(newest_first.c.id)).where(newest_first.c.kept > bounds.max_bytes)
        ).scalar()
        if cut is not None:
            gone += conn.execute(delete(t.dead_letters).where(c.id <= cut)).rowcount
    return gone


def _state_upsert(dialect: Dialect) -> Executable:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    stmt = insert(t.rule_state)
    return stmt.on_conflict_do_update(
        index_elements=["municipality", "key"],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at},
    )


_save_state = BulkStatement(
    _state_upsert,
    ["key", "value"],
    shared=["municipality", "updated_at"],
    arrays="INSERT INTO rule_state (municipality, key, value, updated_at) "
    "SELECT %(municipality)s, u.key, u.value::json, %(updated_at)s "
    "FROM unnest(%(key)b::varchar[], %(value)b::text[]) AS u(key, value) "
    "ON CONFLICT (municipality, key) "
    "DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    json=["value"],
)


def save_rule_state(
    conn: Connection, municipality: str, changes: Mapping[str, Any], now: datetime
) -> None:
    """Persist the rule engine's changed entries (None deletes an entry)."""
    gone = [k for k, v in changes.items() if v is None]
    kept = [(k, v) for k, v in changes.items() if v is not None]
    if gone:
        conn.execute(
            delete(t.rule_state).where(
                t.rule_state.c.municipality == municipality, t.rule_state.c.key.in_(gone)
            )
        )
    _save_state.execute(conn, kept, (municipality, now))


def load_rule_state(conn: Connection, municipality: str) -> dict[str, Any]:
    rows = conn.execute(
        select(t.rule_state.c.key, t.rule_state.c.value).where(
            t.rule_state.c.municipality == municipality
        )
    )
    return {k: v for k, v in rows}  # noqa: C416 - Row pairs
