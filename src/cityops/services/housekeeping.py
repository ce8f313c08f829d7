"""The server's scheduled chores: anchoring the audit chains and running retention.

One daemon thread. Anchors are written every ``anchor_s`` (and when the server stops cleanly),
each also appended to ``anchor_export`` when set: a file meant to live where the database's
users cannot rewrite it. Retention runs every ``retention_s`` for every municipality the server
holds, the first time ``first_delay_s`` after the start. Every ``rollup_s`` the hours ingest
marked are rolled up and, on PostgreSQL, the coming months' partitions of readings created
(docs/STORAGE.md)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cityops.domain.audit import INSTALLATION_CHAIN
from cityops.domain.retention import YEAR_DAYS, RetentionPolicy
from cityops.services import audit, retention, rollups
from cityops.services.retention import EvidenceStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Schedule:
    retention_s: float = 3600.0
    anchor_s: float = 3600.0
    first_delay_s: float = 300.0
    anchor_export: Path | None = None
    installation_audit_years: float = RetentionPolicy().audit_years
    rollup_s: float = 60.0


class Housekeeping:
    def __init__(
        self,
        db: Engine,
        policies: Callable[[], Mapping[str, RetentionPolicy]],
        store: EvidenceStore,
        schedule: Schedule,
    ) -> None:
        self.db = db
        self.policies = policies
        self.store = store
        self.schedule = schedule
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="cityops-housekeeping", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join(timeout=30)
        self._thread = None
        if self.schedule.anchor_s > 0:
            self.anchor()  # the head as the server left it

    def anchor(self) -> None:
        try:
            with self.db.begin() as conn:
                made = audit.anchor(conn, source="schedule")
            if self.schedule.anchor_export is not None:
                with self.db.connect() as conn:
                    audit.export_anchors(conn, self.schedule.anchor_export)
            log.debug("anchored %d audit chains", len(made))
        except Exception:
            log.exception("anchoring the audit log failed")

    def roll_up(self, now: datetime | None = None) -> None:
        """Roll up the marked hours; create the coming months' partitions (PostgreSQL)."""
        try:
            rollups.ensure_partitions(self.db, now)
            rollups.run_pending(self.db)
        except Exception:
            log.exception("rolling up readings failed")

    def run_retention(self, now: datetime | None = None) -> None:
        policies = self.policies()
        for municipality, policy in sorted(policies.items()):
            if self._stop.is_set():
                return
            try:
                retention.run(self.db, municipality, policy, self.store, now=now)
            except Exception:
                log.exception("retention run for %s failed", municipality)
        when = now or datetime.now(UTC)
        try:  # months every municipality is done with (PostgreSQL)
            cuts = retention.readings_cuts(policies, when, self.store.default_days)
            retention.drop_old_months(self.db, cuts)
        except Exception:
            log.exception("dropping old partitions of readings failed")
        years = self.schedule.installation_audit_years
        if years > 0:
            when = now or datetime.now(UTC)
            try:
                retention.prune_audit(
                    self.db, INSTALLATION_CHAIN, when - timedelta(days=years * YEAR_DAYS)
                )
            except Exception:
                log.exception("retention of the installation's audit records failed")

    def _loop(self) -> None:
        s = self.schedule
        start = time.monotonic()
        next_anchor = start + s.anchor_s if s.anchor_s > 0 else None
        next_retention = start + s.first_delay_s if s.retention_s > 0 else None
        next_rollup = start if s.rollup_s > 0 else None
        while True:
            due = [t for t in (next_anchor, next_retention, next_rollup) if t is not None]
            if not due:
                return
            if self._stop.wait(max(0.0, min(due) - time.monotonic())):
                return
            now = time.monotonic()
            if next_rollup is not None and now >= next_rollup:
                self.roll_up()
                next_rollup = time.monotonic() + s.rollup_s
            if next_anchor is not None and now >= next_anchor:
                self.anchor()
                next_anchor = now + s.anchor_s
            if next_retention is not None and now >= next_retention:
                self.run_retention()
                next_retention = time.monotonic() + s.retention_s
