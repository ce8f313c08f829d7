"""Every form of tampering with the stored chain is found and named, on SQLite and PostgreSQL.

The tampering is done as someone with the database owner's rights would (tests.audit.support.
tamper switches PostgreSQL's append-only triggers off first); where the attacker also recomputes
the hashes, only the heads and anchors can tell."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select, text

from cityops.domain.audit import AuditRecord, ChainReport, Problem, sealed
from cityops.services import audit
from cityops.store import audit_repo
from cityops.store.tables_audit import audit_log
from tests.audit.support import MUNI, T0, migrated, tamper, write_views


def _written(db_url: str, count: int = 10) -> Engine:
    db = migrated(db_url)
    write_views(db, count)
    with db.begin() as conn:
        assert len(audit.anchor(conn, source="test")) == 1
    return db


def _report(db: Engine, **kwargs: object) -> ChainReport:
    with db.connect() as conn:
        reports = audit.verify(conn, **kwargs)  # type: ignore[arg-type]
    assert [r.chain for r in reports] == [MUNI]
    return reports[0]


def _kinds(report: ChainReport) -> list[tuple[int, str]]:
    return [(p.seq, p.kind) for p in report.problems]


def _hash_of(db: Engine, seq: int) -> str:
    with db.connect() as conn:
        value: str = conn.execute(
            select(audit_log.c.hash).where(audit_log.c.seq == seq)
        ).scalar_one()
    return value


def test_clean_chain_with_anchor_verifies(db_url: str) -> None:
    db = _written(db_url)
    report = _report(db)
    assert report.ok
    assert report.records == 10
    assert (report.first_seq, report.last_seq) == (1, 10)


def test_altered_record_is_named_with_expected_and_found_hash(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 4")
    report = _report(db)
    assert _kinds(report) == [(4, "altered")]
    problem: Problem = report.problems[0]
    assert problem.expected.startswith("hash ")
    assert _hash_of(db, 4)[:16] in problem.expected
    assert "seq 4: altered" in problem.describe()


def test_altered_and_rehashed_record_breaks_the_next_link(db_url: str) -> None:
    db = _written(db_url)
    with db.connect() as conn:
        rec = next(r for r in audit_repo.chain_records(conn, MUNI) if r.seq == 4)
    forged = sealed(_with(rec, actor="someone-else"))
    with db.begin() as conn:
        tamper(
            conn,
            "UPDATE audit_log SET actor = :a, hash = :h WHERE seq = 4",
            a=forged.actor,
            h=forged.hash,
        )
    assert _kinds(_report(db)) == [(5, "link")]


def test_deleted_record_is_named(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log WHERE seq = 6")
    report = _report(db)
    assert _kinds(report) == [(6, "deleted")]
    assert report.problems[0].found == "next record is seq 7"


def test_inserted_record_is_named(db_url: str) -> None:
    """A forged record slipped in as seq 5 with a correct hash: the later ones renumbered."""
    db = _written(db_url)
    prev = _hash_of(db, 4)
    forged = sealed(AuditRecord(MUNI, 5, T0, "ghost", "video.live", MUNI, "cam-0", None, {}, prev))
    with db.begin() as conn:
        tamper(conn, "UPDATE audit_log SET seq = seq + 1000 WHERE seq >= 5")
        tamper(conn, "UPDATE audit_log SET seq = seq - 999 WHERE seq >= 1000")
        tamper(
            conn,
            "INSERT INTO audit_log (chain, seq, at, actor, action, municipality, target, reason,"
            " detail, prev_hash, hash) VALUES (:c, 5, :at, 'ghost', 'video.live', :c, 'cam-0',"
            " NULL, '{}', :p, :h)",
            c=MUNI,
            at=T0.replace(tzinfo=None) if conn.dialect.name == "sqlite" else T0,
            p=prev,
            h=forged.hash,
        )
    kinds = _kinds(_report(db))
    assert (5, "inserted") in kinds
    assert (6, "moved") in kinds  # the old seq 5, now at 6
    assert (11, "inserted") in kinds  # beyond the head row's seq 10


def test_reordered_records_are_named(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "UPDATE audit_log SET seq = -1 WHERE seq = 3")
        tamper(conn, "UPDATE audit_log SET seq = 3 WHERE seq = 7")
        tamper(conn, "UPDATE audit_log SET seq = 7 WHERE seq = -1")
    report = _report(db)
    assert _kinds(report) == [(3, "moved"), (7, "moved")]
    assert report.problems[0].expected == "written as seq 7"


def test_truncated_tail_is_found_by_the_head(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log WHERE seq >= 9")
    assert _kinds(_report(db)) == [(9, "truncated")]


def test_truncated_tail_with_head_rewritten_is_found_by_the_anchor(db_url: str) -> None:
    db = _written(db_url)
    eight = _hash_of(db, 8)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log WHERE seq >= 9")
        tamper(conn, "UPDATE audit_heads SET seq = 8, hash = :h", h=eight)
    report = _report(db)
    assert _kinds(report) == [(9, "truncated")]
    assert "seq 10 (anchor of" in report.problems[0].expected


def test_everything_wiped_is_found_by_the_exported_anchors(db_url: str, tmp_path: Path) -> None:
    db = _written(db_url)
    exported = tmp_path / "anchors.jsonl"
    with db.connect() as conn:
        assert audit.export_anchors(conn, exported) == 1
        assert audit.export_anchors(conn, exported) == 0  # appends only what is new
    eight = _hash_of(db, 8)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log WHERE seq >= 9")
        tamper(conn, "DELETE FROM audit_anchors")
        tamper(conn, "UPDATE audit_heads SET seq = 8, hash = :h", h=eight)
    assert _report(db).ok  # inside the database nothing is left to tell
    outside = audit.load_anchors(exported)
    assert _kinds(_report(db, extra_anchors=outside)) == [(9, "truncated")]


def test_anchor_disagreeing_with_a_rewritten_chain_is_named(db_url: str) -> None:
    """The attacker rewrote record 10 and the head consistently: the anchor still knows."""
    db = _written(db_url)
    with db.connect() as conn:
        rec = next(r for r in audit_repo.chain_records(conn, MUNI) if r.seq == 10)
    forged = sealed(_with(rec, reason="routine"))
    with db.begin() as conn:
        tamper(
            conn, "UPDATE audit_log SET reason = 'routine', hash = :h WHERE seq = 10", h=forged.hash
        )
        tamper(conn, "UPDATE audit_heads SET hash = :h", h=forged.hash)
    assert _kinds(_report(db)) == [(10, "anchor")]


def test_postgresql_refuses_update_delete_and_truncate(pg_url: str) -> None:
    import pytest
    from sqlalchemy.exc import DBAPIError

    db = _written(pg_url)
    for sql in (
        "UPDATE audit_log SET actor = 'x' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "DELETE FROM audit_anchors",
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
            conn.execute(text(sql))
    assert _report(db).ok


def _with(rec: AuditRecord, **changes: object) -> AuditRecord:
    from dataclasses import replace

    return replace(rec, hash="", **changes)  # type: ignore[arg-type]


def test_a_deleted_head_row_is_named(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_heads")
    assert _kinds(_report(db)) == [(10, "head")]


def test_a_chain_wiped_with_its_head_is_found_by_its_anchor(db_url: str) -> None:
    db = _written(db_url)
    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log")
        tamper(conn, "DELETE FROM audit_heads")
    report = _report(db)
    assert _kinds(report) == [(1, "truncated")]
    assert report.records == 0


def test_the_guard_survives_a_downgrade_and_upgrade(pg_url: str) -> None:
    import pytest
    from alembic import command
    from sqlalchemy.exc import DBAPIError

    from cityops.store.db import alembic_config, upgrade

    db = _written(pg_url)
    db.dispose()
    command.downgrade(alembic_config(pg_url), "0003")
    upgrade(pg_url)
    db = _written(pg_url)
    with pytest.raises(DBAPIError, match="append-only"), db.begin() as conn:
        conn.execute(text("DELETE FROM audit_log"))
    db.dispose()
