"""Concurrent writers of one chain are serialised: no sequence number twice, no broken link."""

from __future__ import annotations

import threading

from sqlalchemy import text

from cityops.services import audit
from cityops.services.audit import AuditAction
from cityops.store import audit_repo
from tests.audit.support import MUNI, migrated

WRITERS = 6
EACH = 15


def test_concurrent_writers_keep_every_chain_valid(db_url: str) -> None:
    db = migrated(db_url)
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            start.wait()
            for i in range(EACH):
                with db.begin() as conn:
                    # some work in the same transaction before the record, as a real change has
                    conn.execute(text("SELECT 1"))
                    audit.record(
                        conn,
                        actor=f"writer-{n}",
                        action=AuditAction.VIDEO_SNAPSHOT,
                        # two chains written at once: the first writers of each race to create it
                        municipality=MUNI if n % 2 else "other-town",
                        target=f"cam-{i}",
                    )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    with db.connect() as conn:
        reports = audit.verify(conn)
        seqs = [r.seq for r in audit_repo.chain_records(conn, MUNI)]
    assert {r.chain: (r.ok, r.records) for r in reports} == {
        MUNI: (True, WRITERS // 2 * EACH),
        "other-town": (True, WRITERS // 2 * EACH),
    }
    assert seqs == list(range(1, WRITERS // 2 * EACH + 1))
    db.dispose()


def test_a_rolled_back_change_leaves_no_record_and_no_gap(db_url: str) -> None:
    db = migrated(db_url)
    with db.begin() as conn:
        audit.record(conn, actor="a", action=AuditAction.LOGIN, municipality=MUNI)
    try:
        with db.begin() as conn:
            audit.record(conn, actor="b", action=AuditAction.CONFIG_CHANGED, municipality=MUNI)
            raise RuntimeError("the change failed")
    except RuntimeError:
        pass
    with db.begin() as conn:
        audit.record(conn, actor="c", action=AuditAction.LOGOUT, municipality=MUNI)
    with db.connect() as conn:
        actors = [(r.seq, r.actor) for r in audit_repo.chain_records(conn, MUNI)]
        assert all(r.ok for r in audit.verify(conn))
    assert actors == [(1, "a"), (2, "c")]
    db.dispose()
