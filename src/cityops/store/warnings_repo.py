"""Received public warnings (``cap_received``): what was in force, kept across restarts.

A row is written when a CAP message opens or updates a warning in a municipality, ended when
the warning is cancelled, expires, leaves or is replaced by an update. ``open_rows`` gives what
is still in force (to rebuild the book at start), ``seen_keys`` every message ever in force
there (a repeat after a restart is ignored)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, tuple_, update

from cityops.store.tables_warnings import cap_received

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class StoredWarning:
    sender: str
    identifier: str
    xml: bytes
    signature: str
    lon: float
    lat: float
    replaces: tuple[Key, ...]


def put(
    conn: Connection,
    municipality: str,
    stored: StoredWarning,
    sent: datetime,
    now: datetime,
) -> None:
    """Record a warning now in force; what it replaces ends as ``replaced``."""
    end(conn, municipality, stored.replaces, "replaced", now)
    exists = conn.execute(
        select(cap_received.c.id)
        .where(cap_received.c.municipality == municipality)
        .where(cap_received.c.sender == stored.sender)
        .where(cap_received.c.identifier == stored.identifier)
    ).first()
    if exists is not None:  # the same message again (a rebuilt book): it is already here
        return
    conn.execute(
        cap_received.insert().values(
            municipality=municipality,
            sender=stored.sender,
            identifier=stored.identifier,
            sent=sent,
            xml=stored.xml,
            signature=stored.signature,
            lon=stored.lon,
            lat=stored.lat,
            replaces=[list(k) for k in stored.replaces],
            received_at=now,
        )
    )


def end(conn: Connection, municipality: str, keys: Sequence[Key], why: str, now: datetime) -> int:
    """Mark the warnings ``keys`` ended (cancelled, expired, left, replaced)."""
    if not keys:
        return 0
    result = conn.execute(
        update(cap_received)
        .where(cap_received.c.municipality == municipality)
        .where(tuple_(cap_received.c.sender, cap_received.c.identifier).in_(list(keys)))
        .where(cap_received.c.ended_at.is_(None))
        .values(ended_at=now, ended_by=why[:16])
    )
    return result.rowcount


def open_rows(conn: Connection, municipality: str) -> list[StoredWarning]:
    """The warnings still in force here, oldest first."""
    c = cap_received.c
    rows = conn.execute(
        select(c.sender, c.identifier, c.xml, c.signature, c.lon, c.lat, c.replaces)
        .where(c.municipality == municipality)
        .where(c.ended_at.is_(None))
        .order_by(c.id)
    ).all()
    return [
        StoredWarning(
            r.sender,
            r.identifier,
            bytes(r.xml),
            r.signature,
            r.lon,
            r.lat,
            tuple((str(k[0]), str(k[1])) for k in r.replaces),
        )
        for r in rows
    ]


def seen_keys(conn: Connection, municipality: str, limit: int) -> list[Key]:
    """The ``limit`` newest (sender, identifier) ever in force here, oldest first."""
    c = cap_received.c
    rows = conn.execute(
        select(c.sender, c.identifier)
        .where(c.municipality == municipality)
        .order_by(c.id.desc())
        .limit(limit)
    ).all()
    return [(r.sender, r.identifier) for r in reversed(rows)]
