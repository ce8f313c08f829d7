"""Dead letters: what ingest could not take, kept with the reason, bounded by age, count and
size (docs/MQTT.md, the rejection reasons). Moved out of observations_repo.py, which re-exports
them."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, case, delete, func, select

from cityops.store import tables as t


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
