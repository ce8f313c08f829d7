"""Event evidence on the control center: recorded when a camera event is ingested, listed per
incident, served as files, and removed by retention or a data subject's erasure.

The files are the video workers' (``<root>/<municipality>/<camera>/<YYYY-MM-DD>/``, written
atomically; a worker on another host writes into the same directory, shared). A record names
only paths ``domain.evidence`` accepted for that event, so a served path never leaves its
municipality's and camera's directory. Contract for retention and erasure (docs/PRIVACY.md):
``find``, ``delete`` and ``prune`` remove the files together with the records.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from cityops.domain.evidence import EvidenceRecord, refs_of, safe_name
from cityops.domain.observations import Event, EventSource
from cityops.store import evidence_repo as repo

log = logging.getLogger(__name__)

STALE_TEMP_S = 3600.0
"""An unfinished file (``.part-*``) older than this in a pruned directory is a worker's leftover."""

__all__ = ["EvidenceRecord", "delete", "file_path", "find", "for_incident", "prune", "record"]


def record(
    conn: Connection, municipality: str, events: Iterable[Event], now: datetime
) -> list[EvidenceRecord]:
    """Record the evidence the camera ``events`` (just stored) name in their attributes."""
    records = []
    for e in events:
        if e.source is not EventSource.CAMERA:
            continue
        refs = refs_of(dict(e.attributes), municipality, e.source_id, e.ts)
        if refs.empty:
            continue
        records.append(
            EvidenceRecord(
                municipality,
                e.event_id,
                e.source_id,
                e.kind,
                e.ts,
                refs.snapshot,
                refs.clip,
                refs.clip_start,
                refs.clip_end,
                now,
            )
        )
    repo.insert(conn, records)
    return records


def find(
    conn: Connection,
    municipality: str,
    camera_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[EvidenceRecord]:
    """The evidence whose event or clip touches [since, until] (a camera's, or all)."""
    return repo.find(conn, municipality, camera_id, since, until)


def for_incident(conn: Connection, municipality: str, incident_id: int) -> list[EvidenceRecord]:
    return repo.for_incident(conn, municipality, incident_id)


def get(conn: Connection, municipality: str, event_id: str) -> EvidenceRecord | None:
    return repo.get(conn, municipality, event_id)


def file_path(root: Path, relative: str) -> Path:
    """The file of a recorded path, refusing anything that would leave ``root``."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ValueError(f"{relative!r} is outside the evidence directory")
    return target


def _unlink(root: Path, relative: str) -> bool:
    try:
        file_path(root, relative).unlink()
    except FileNotFoundError:
        return False
    return True


def _remove(conn: Connection, root: Path, records: Sequence[EvidenceRecord]) -> int:
    """Remove ``records`` and their files; a clip another record shares goes too (its record
    then names no clip): an erasure must not leave the picture behind."""
    removed = repo.remove(conn, [r.key for r in records])
    clips = {r.clip for r in records if r.clip}
    shared = repo.clips_in_use(conn, clips)
    repo.forget_clips(conn, shared)
    for path in {r.snapshot for r in records if r.snapshot} | clips:
        _unlink(root, path)
    return removed


def delete(conn: Connection, root: Path, ids: Iterable[tuple[str, str]]) -> int:
    """Delete the evidence of these (municipality, event id) keys, files and records (a data
    subject's erasure); the number of records removed."""
    return _remove(conn, root, repo.by_keys(conn, ids))


def prune(conn: Connection, root: Path, municipality: str, before: datetime) -> int:
    """Retention: remove the municipality's evidence of events before ``before`` (files and
    records), and what its workers left in day directories wholly before it that no record
    names (events never ingested, unfinished files). The number of records removed; nothing
    younger is touched (a clip shared with a younger event stays)."""
    old = repo.older_than(conn, municipality, before)
    removed = repo.remove(conn, [r.key for r in old])
    in_use = repo.clips_in_use(conn, {r.clip for r in old if r.clip})
    for path in {r.snapshot for r in old if r.snapshot} | {r.clip for r in old if r.clip}:
        if path not in in_use:
            _unlink(root, path)
    _sweep(conn, root, municipality, before)
    return removed


def _sweep(conn: Connection, root: Path, municipality: str, before: datetime) -> None:
    """Unnamed files in the municipality's day directories older than ``before``'s day."""
    if not safe_name(municipality):
        return
    base = root / municipality
    if not base.is_dir():
        return
    last_day = before.astimezone(UTC).date()
    stale = datetime.now(UTC) - timedelta(seconds=STALE_TEMP_S)
    for camera_dir in sorted(p for p in base.iterdir() if p.is_dir()):
        for day_dir in sorted(p for p in camera_dir.iterdir() if p.is_dir()):
            try:
                day = datetime.strptime(day_dir.name, "%Y-%m-%d").date()
            except ValueError:
                continue
            if day >= last_day:
                continue
            prefix = f"{municipality}/{camera_dir.name}/{day_dir.name}/"
            named = repo.referenced(conn, prefix)
            for f in day_dir.iterdir():
                if f.is_file() and prefix + f.name not in named:
                    mtime = datetime.fromtimestamp(f.stat().st_mtime, UTC)
                    if not f.name.startswith(".") or mtime < stale:
                        f.unlink(missing_ok=True)
            if not any(day_dir.iterdir()):
                shutil.rmtree(day_dir, ignore_errors=True)
