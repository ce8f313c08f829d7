"""The server's scheduled chores on a real database: anchors written and exported, retention run."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityops.domain.audit import AuditAction
from cityops.domain.observations import Reading
from cityops.domain.retention import RetentionPolicy
from cityops.services import audit, retention
from cityops.services.housekeeping import Housekeeping, Schedule
from cityops.services.retention import EvidenceStore
from cityops.store import audit_repo, observations_repo
from tests.town import MUNI, town_db


def test_the_job_anchors_exports_and_runs_retention(tmp_path: Path) -> None:
    db = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    now = datetime.now(UTC)
    with db.begin() as conn:
        audit.record(conn, actor="op", action=AuditAction.VIDEO_SNAPSHOT, municipality=MUNI)
        observations_repo.insert_readings(
            conn, [Reading(MUNI, "river-1", now - timedelta(days=200), 1.0)]
        )
    exported = tmp_path / "outside" / "anchors.jsonl"
    job = Housekeeping(
        db,
        lambda: {MUNI: RetentionPolicy(readings_days=100)},
        EvidenceStore(tmp_path / "evidence", 30.0),
        Schedule(retention_s=60, anchor_s=0.2, first_delay_s=0.1, anchor_export=exported),
    )
    job.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if retention.last_runs(db, MUNI) and exported.exists():
                break
            time.sleep(0.1)
    finally:
        job.stop()
    (run,) = retention.last_runs(db, MUNI)
    assert run.ok
    assert run.removed["readings"] == 1
    with db.connect() as conn:
        anchors = audit_repo.anchors(conn, MUNI)
        assert all(r.ok for r in audit.verify(conn, extra_anchors=audit.load_anchors(exported)))
        head = audit_repo.head(conn, MUNI)
    # anchored on schedule and once more when stopping: the head includes the run's own record
    assert head is not None
    assert anchors
    assert anchors[-1].seq == head.seq
    assert {(a.chain, a.seq) for a in audit.load_anchors(exported)} <= {
        (a.chain, a.seq) for a in anchors
    }
    db.dispose()
