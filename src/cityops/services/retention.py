"""Retention: each kind of data removed when it is older than the municipality keeps it
(docs/PRIVACY.md), every run stored and audited.

Raw readings are first summed up into hourly aggregates (count, min, max, mean per sensor and
UTC hour, in the same transaction), then removed by whole hours. Audit records go only after the
chain's head was anchored, and the chain's base moves to the last removed record, so
``cityops audit verify`` still checks everything that is kept."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from cityops.domain.audit import utc_text
from cityops.domain.retention import (
    DataKind,
    HourlyAggregate,
    RetentionPolicy,
    hour_floor,
    hourly,
)
from cityops.services import audit, evidence, rollups
from cityops.store import audit_repo, rollups_repo
from cityops.store import partitions_repo as parts
from cityops.store import retention_repo as repo
from cityops.store.retention_repo import RunRecord

log = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
CHUNK = timedelta(days=1)
"""Raw readings are summed up and removed a day at a time."""

ACTOR = "retention"
AGGREGATED = "readings_hourly_written"
"""In a run's ``removed`` beside the kinds: hourly aggregate rows written from raw readings."""
PARTITIONS = "readings_partitions_dropped"
"""In a run's ``removed`` on PostgreSQL: monthly partitions of raw readings dropped."""


@dataclass(frozen=True, slots=True)
class EvidenceStore:
    """Where the evidence files are and how long they are kept unless a municipality says."""

    root: Path
    default_days: float


def run(
    db: Engine,
    municipality: str,
    policy: RetentionPolicy,
    store: EvidenceStore,
    *,
    now: datetime | None = None,
    actor: str = ACTOR,
) -> RunRecord:
    """One retention run for ``municipality``; each kind in its own transaction, so a failure
    in one keeps what the others did. The run (when, what was removed per kind) is stored and
    recorded in the audit log."""
    started = now or datetime.now(UTC)
    cut = policy.cutoffs(started, store.default_days)
    removed: dict[str, int] = {}
    error: str | None = None
    steps: list[tuple[DataKind, Callable[[datetime], dict[str, int]]]] = [
        (DataKind.EVIDENCE, lambda before: _evidence(db, municipality, store.root, before)),
        (DataKind.READINGS, lambda before: _readings(db, municipality, before)),
        (
            DataKind.READINGS_HOURLY,
            _simple(db, municipality, DataKind.READINGS_HOURLY, repo.delete_hourly),
        ),
        (DataKind.EVENTS, _simple(db, municipality, DataKind.EVENTS, repo.delete_events)),
        (
            DataKind.DEAD_LETTERS,
            _simple(db, municipality, DataKind.DEAD_LETTERS, repo.delete_dead_letters),
        ),
        (DataKind.AUDIT, lambda before: {DataKind.AUDIT: prune_audit(db, municipality, before)}),
    ]
    for kind, step in steps:
        before = cut[kind]
        if before is None:
            continue
        try:
            removed.update({str(k): n for k, n in step(before).items()})
        except Exception as exc:  # one kind failing must not stop the others, nor the job
            log.exception("retention of %s in %s failed", kind, municipality)
            error = f"{error + '; ' if error else ''}{kind}: {type(exc).__name__}: {exc}"
    record = RunRecord(
        municipality=municipality,
        started_at=started,
        finished_at=datetime.now(UTC) if now is None else started,
        actor=actor,
        ok=error is None,
        removed=removed,
        cutoffs={str(k): (utc_text(v) if v is not None else None) for k, v in cut.items()},
        error=error,
    )
    with db.begin() as conn:
        repo.insert_run(conn, record)
        audit.record(
            conn,
            actor=actor,
            action=audit.AuditAction.RETENTION_RUN,
            municipality=municipality,
            detail={
                "removed": removed,
                "cutoffs": dict(record.cutoffs),
                "ok": record.ok,
                "error": error,
            },
            at=record.finished_at,
        )
    return record


def _evidence(db: Engine, municipality: str, root: Path, before: datetime) -> dict[str, int]:
    with db.begin() as conn:
        return {DataKind.EVIDENCE: evidence.prune(conn, root, municipality, before)}


def _readings(db: Engine, municipality: str, before: datetime) -> dict[str, int]:
    """Raw readings before ``before``: their hours rolled up first (docs/STORAGE.md). Late
    readings of hours already final are merged into those hours' rollups and removed. Then, on
    SQLite, the whole hours before ``before`` are removed a day at a time, each chunk's hourly
    rollups rewritten from exactly the rows it deleted (bounded memory, short transactions); on
    PostgreSQL whole months go, by dropping their partitions (:func:`drop_old_months`)."""
    rollups.run_pending(db)
    removed = written = 0
    with db.begin() as conn:
        repo.lock_for_retention(conn, municipality)
        raw_from = rollups_repo.horizon(conn, municipality)
        if raw_from is not None:
            late = repo.take_readings(conn, municipality, EPOCH, raw_from)
            fresh = hourly(late)
            written += repo.merge_hourly(conn, municipality, fresh)
            _redo_days(conn, municipality, fresh)
            removed += len(late)
    with db.connect() as conn:
        partitioned = parts.is_partitioned(conn)
        oldest = None if partitioned else repo.oldest_reading(conn, municipality)
    if partitioned:
        dropped = drop_old_months(db, {municipality: before})
        out = {DataKind.READINGS: removed, AGGREGATED: written}
        if dropped is not None:
            out[DataKind.READINGS] += dropped.readings
            out[PARTITIONS] = len(dropped.partitions)
        return out
    start = max(raw_from or EPOCH, hour_floor(oldest) if oldest is not None else before)
    while start < before:
        end = min(start + CHUNK, before)
        with db.begin() as conn:
            repo.lock_for_retention(conn, municipality)
            taken = repo.take_readings(conn, municipality, start, end)
            fresh = hourly(taken)
            written += rollups_repo.replace_hourly(conn, municipality, fresh)
            _redo_days(conn, municipality, fresh)
            rollups_repo.set_horizon(conn, municipality, end)
            removed += len(taken)
        start = end
    return {DataKind.READINGS: removed, AGGREGATED: written}


def _redo_days(conn: Connection, municipality: str, fresh: list[HourlyAggregate]) -> None:
    for day in sorted({rollups_repo.day_floor(a.hour) for a in fresh}):
        sensors = sorted({a.sensor_id for a in fresh if rollups_repo.day_floor(a.hour) == day})
        rollups_repo.rebuild_daily(conn, municipality, sensors, day, day + timedelta(days=1))


def drop_old_months(db: Engine, cuts: Mapping[str, datetime | None]) -> rollups.Dropped | None:
    """PostgreSQL: drop the months of raw readings that every municipality is done with (the
    earliest of their readings' cut-offs, by municipality). None when a municipality of the
    database is not in ``cuts`` or keeps its readings for ever (None): its readings are not
    this caller's to remove."""
    if not rollups.all_municipalities(db, cuts) <= set(cuts):
        return None
    known = [c for c in cuts.values() if c is not None]
    if not known or len(known) < len(cuts):
        return None
    dropped = rollups.drop_months_before(db, min(known))
    if dropped.partitions:
        log.info("dropped reading partitions %s", ", ".join(dropped.partitions))
    return dropped


def readings_cuts(
    policies: Mapping[str, RetentionPolicy], now: datetime, evidence_default: float
) -> dict[str, datetime | None]:
    """Each municipality's readings cut-off at ``now`` (None: kept for ever)."""
    return {m: p.cutoffs(now, evidence_default)[DataKind.READINGS] for m, p in policies.items()}


def _simple(
    db: Engine,
    municipality: str,
    kind: DataKind,
    remove: Callable[[Connection, str, datetime], int],
) -> Callable[[datetime], dict[str, int]]:
    """A step that removes one kind's rows before its cut-off in one transaction."""

    def step(before: datetime) -> dict[str, int]:
        with db.begin() as conn:
            return {kind: remove(conn, municipality, before)}

    return step


def prune_audit(db: Engine, chain: str, before: datetime) -> int:
    """Remove the chain's records written before ``before`` (its oldest run of them), after
    anchoring its head; the base moves to the last one removed. The number removed."""
    with db.begin() as conn:
        last = audit_repo.prunable_until(conn, chain, before)
        if last is None:
            return 0
        audit.anchor(conn, source="retention", chains=[chain])
        return audit_repo.prune_through(conn, chain, last)


def last_runs(db: Engine, municipality: str, limit: int = 10) -> list[RunRecord]:
    with db.connect() as conn:
        return repo.recent_runs(conn, municipality, limit)
