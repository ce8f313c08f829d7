"""Readings, events, dead letters and rule state: the rows the ingest path writes in batches."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from cityops.domain.observations import Event, Reading
from cityops.store import tables as t
from cityops.store.sql import insert_ignore, upsert

DEAD_LETTER_PAYLOAD_LIMIT = 65536


def insert_readings(conn: Connection, readings: Sequence[Reading]) -> None:
    """Store readings in one statement; a reading already stored (same sensor and time) is kept."""
    insert_ignore(
        conn,
        t.readings,
        [
            {"municipality": r.municipality, "sensor_id": r.sensor_id, "ts": r.ts, "value": r.value}
            for r in readings
        ],
    )


@dataclass(frozen=True, slots=True)
class SensorLatest:
    municipality: str
    sensor_id: str
    value: float
    ts: datetime
    received_at: datetime


_update_latest = (
    update(t.sensors)
    .where(t.sensors.c.municipality == bindparam("m"), t.sensors.c.id == bindparam("sid"))
    .values(last_value=bindparam("v"), last_ts=bindparam("ts"), last_received_at=bindparam("rcv"))
)


def update_sensor_latest(conn: Connection, latest: Iterable[SensorLatest]) -> None:
    rows = [
        {"m": x.municipality, "sid": x.sensor_id, "v": x.value, "ts": x.ts, "rcv": x.received_at}
        for x in latest
    ]
    if rows:
        conn.execute(_update_latest, rows)


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


def _storable(text: str) -> str:
    """Hostile input kept as text: NUL, which PostgreSQL cannot store, is written as ``\\x00``
    (a dead letter must never fail to be written, or the message behind it would block)."""
    return text.replace("\x00", "\\x00")


def insert_dead_letters(conn: Connection, letters: Sequence[DeadLetter]) -> None:
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
                "payload": _storable(
                    d.payload[:DEAD_LETTER_PAYLOAD_LIMIT].decode("utf-8", "replace")
                ),
                "payload_size": len(d.payload),
            }
            for d in letters
        ],
    )


def save_rule_state(
    conn: Connection, municipality: str, changes: Mapping[str, Any], now: datetime
) -> None:
    """Persist the rule engine's changed entries (None deletes an entry)."""
    gone = [k for k, v in changes.items() if v is None]
    kept = [
        {"municipality": municipality, "key": k, "value": v, "updated_at": now}
        for k, v in changes.items()
        if v is not None
    ]
    if gone:
        conn.execute(
            delete(t.rule_state).where(
                t.rule_state.c.municipality == municipality, t.rule_state.c.key.in_(gone)
            )
        )
    upsert(conn, t.rule_state, kept, ["municipality", "key"])


def load_rule_state(conn: Connection, municipality: str) -> dict[str, Any]:
    rows = conn.execute(
        select(t.rule_state.c.key, t.rule_state.c.value).where(
            t.rule_state.c.municipality == municipality
        )
    )
    return {k: v for k, v in rows}  # noqa: C416 - Row pairs
