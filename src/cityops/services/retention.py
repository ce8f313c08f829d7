"""Retention: each kind of data removed when it is older than the municipality keeps it
(docs/PRIVACY.md), every run stored and audited.

Raw readings are first summed up into hourly aggregates (count, min, max, mean per sensor and
UTC hour, in the same transaction), then removed by whole hours. Audit records go only after the
chain's head was anchored, and the chain's base moves to the last removed record, so
``cityops audit verify`` still checks everything that is kept."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, Engine

from cityops.domain.audit import utc_text
from cityops.domain.retention import DataKind, RetentionPolicy, hour_floor, hourly
from cityops.services import audit, evidence
from cityops.store import audit_repo
from cityops.store import retention_repo as repo
from cityops.store.retention_repo import RunRecord

log = logging.getLogger(__name__)

CHUNK = timedelta(days=1)
"""Raw readings are summed up and removed a day at a time."""

ACTOR = "retention"
AGGREGATED = "readings_hourly_written"
"""In a run's ``removed`` beside the kinds: hourly aggregate rows written from raw readings."""


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
    """Move the whole hours before ``before`` from raw readings into hourly aggregates, a day
    at a time (bounded memory, short transactions); each chunk deletes its readings and writes
    their aggregates in one transaction."""
    with db.connect() as conn:
        oldest = repo.oldest_reading(conn, municipality)
    removed = written = 0
    start = hour_floor(oldest) if oldest is not None else before
    while start < before:
        end = min(start + CHUNK, before)
        with db.begin() as conn:
            repo.lock_for_retention(conn, municipality)
            taken = repo.take_readings(conn, municipality, start, end)
            written += repo.merge_hourly(conn, municipality, hourly(taken))
            removed += len(taken)
        start = end
    return {DataKind.READINGS: removed, AGGREGATED: written}


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
