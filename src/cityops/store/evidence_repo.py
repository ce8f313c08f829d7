"""Evidence rows: which event has which snapshot and clip (files under the evidence root)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, delete, or_, select, tuple_, update

from cityops.domain.evidence import EvidenceRecord
from cityops.store import tables as t
from cityops.store.sql import insert_ignore
from cityops.store.tables_evidence import evidence as ev

Key = tuple[str, str]


def _row(r: EvidenceRecord) -> dict[str, Any]:
    return {
        "municipality": r.municipality,
        "event_id": r.event_id,
        "camera_id": r.camera_id,
        "kind": r.kind,
        "ts": r.ts,
        "snapshot_path": r.snapshot,
        "clip_path": r.clip,
        "clip_start": r.clip_start,
        "clip_end": r.clip_end,
        "recorded_at": r.recorded_at,
    }


def _record(m: Any) -> EvidenceRecord:
    return EvidenceRecord(
        m.municipality,
        m.event_id,
        m.camera_id,
        m.kind,
        m.ts,
        m.snapshot_path,
        m.clip_path,
        m.clip_start,
        m.clip_end,
        m.recorded_at,
    )


def insert(conn: Connection, records: Sequence[EvidenceRecord]) -> None:
    """Store records; one already stored (same municipality and event) is kept."""
    insert_ignore(conn, ev, [_row(r) for r in records])


def find(
    conn: Connection,
    municipality: str,
    camera_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[EvidenceRecord]:
    """A municipality's evidence whose event or clip touches [since, until], oldest first."""
    q = select(ev).where(ev.c.municipality == municipality)
    if camera_id is not None:
        q = q.where(ev.c.camera_id == camera_id)
    if since is not None:
        q = q.where(or_(ev.c.ts >= since, ev.c.clip_end >= since))
    if until is not None:
        q = q.where(or_(ev.c.ts <= until, ev.c.clip_start <= until))
    return [_record(r) for r in conn.execute(q.order_by(ev.c.ts, ev.c.event_id))]


def for_events(
    conn: Connection, municipality: str, event_ids: Iterable[str]
) -> list[EvidenceRecord]:
    ids = list(event_ids)
    if not ids:
        return []
    q = select(ev).where(ev.c.municipality == municipality, ev.c.event_id.in_(ids))
    return [_record(r) for r in conn.execute(q.order_by(ev.c.ts, ev.c.event_id))]


def for_incident(conn: Connection, municipality: str, incident_id: int) -> list[EvidenceRecord]:
    """The evidence of an incident's events, oldest first."""
    ie = t.incident_events
    q = (
        select(ev)
        .join(
            ie,
            and_(ie.c.municipality == ev.c.municipality, ie.c.event_id == ev.c.event_id),
        )
        .where(ie.c.incident_id == incident_id, ev.c.municipality == municipality)
        .order_by(ev.c.ts, ev.c.event_id)
    )
    return [_record(r) for r in conn.execute(q)]


def get(conn: Connection, municipality: str, event_id: str) -> EvidenceRecord | None:
    row = conn.execute(
        select(ev).where(ev.c.municipality == municipality, ev.c.event_id == event_id)
    ).first()
    return _record(row) if row is not None else None


def by_keys(conn: Connection, keys: Iterable[Key]) -> list[EvidenceRecord]:
    wanted = list(keys)
    if not wanted:
        return []
    q = select(ev).where(tuple_(ev.c.municipality, ev.c.event_id).in_(wanted))
    return [_record(r) for r in conn.execute(q)]


def older_than(conn: Connection, municipality: str, before: datetime) -> list[EvidenceRecord]:
    q = select(ev).where(ev.c.municipality == municipality, ev.c.ts < before)
    return [_record(r) for r in conn.execute(q)]


def remove(conn: Connection, keys: Iterable[Key]) -> int:
    wanted = list(keys)
    if not wanted:
        return 0
    done = conn.execute(delete(ev).where(tuple_(ev.c.municipality, ev.c.event_id).in_(wanted)))
    return int(done.rowcount or 0)


def clips_in_use(conn: Connection, paths: Iterable[str]) -> set[str]:
    """Which of the clip ``paths`` some stored record still names."""
    wanted = sorted(set(paths))
    if not wanted:
        return set()
    q = select(ev.c.clip_path).where(ev.c.clip_path.in_(wanted)).distinct()
    return {r[0] for r in conn.execute(q)}


def forget_clips(conn: Connection, paths: Iterable[str]) -> int:
    """The clips at ``paths`` are gone: the records that shared them no longer name one."""
    wanted = sorted(set(paths))
    if not wanted:
        return 0
    done = conn.execute(
        update(ev)
        .where(ev.c.clip_path.in_(wanted))
        .values(clip_path=None, clip_start=None, clip_end=None)
    )
    return int(done.rowcount or 0)


def referenced(conn: Connection, prefix: str) -> set[str]:
    """Every path under ``prefix`` (``<m>/<camera>/<day>/``) that a record names."""
    like = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    q = select(ev.c.snapshot_path, ev.c.clip_path).where(
        or_(ev.c.snapshot_path.like(like, escape="\\"), ev.c.clip_path.like(like, escape="\\"))
    )
    return {p for row in conn.execute(q) for p in row if p and p.startswith(prefix)}
