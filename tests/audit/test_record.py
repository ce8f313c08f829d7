"""Records written through services.audit form a valid chain, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from cityops.domain.audit import GENESIS_HASH, record_hash
from cityops.services import audit
from cityops.store import audit_repo
from cityops.store.tables_audit import audit_log
from tests.audit.support import MUNI, migrated, write_views


def test_a_clean_chain_verifies_and_links_each_record_to_the_previous(db_url: str) -> None:
    db = migrated(db_url)
    write_views(db, 12)
    with db.connect() as conn:
        records = list(audit_repo.chain_records(conn, MUNI))
        reports = audit.verify(conn)
    assert [r.seq for r in records] == list(range(1, 13))
    assert records[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(records):
        assert after.prev_hash == before.hash
    # what was read back hashes to what was stored: the canonical form survives the database
    assert all(record_hash(r) == r.hash for r in records)
    assert [(r.chain, r.ok, r.records) for r in reports] == [(MUNI, True, 12)]
    db.dispose()


def test_installation_records_have_their_own_chain(db_url: str) -> None:
    db = migrated(db_url)
    write_views(db, 2)
    with db.begin() as conn:
        audit.record(
            conn, actor="x\x00" * 300, action=audit.AuditAction.LOGIN_FAILED, municipality=None
        )
    with db.connect() as conn:
        rows = conn.execute(select(audit_log.c.chain, audit_log.c.actor)).all()
        reports = audit.verify(conn)
    chains = sorted(r[0] for r in rows)
    assert chains == ["", MUNI, MUNI]
    failed = next(r[1] for r in rows if r[0] == "")
    assert "\x00" not in failed
    assert len(failed) == 200
    assert all(r.ok for r in reports)
    assert len(reports) == 2
    db.dispose()


def test_a_configuration_import_is_audited(db_url: str) -> None:
    import hashlib

    from tests.town import MUNI as TOWN
    from tests.town import TOWN_YAML, town_db

    db = town_db(db_url)
    with db.connect() as conn:
        (rec,) = list(audit_repo.chain_records(conn, TOWN))
    assert (rec.actor, rec.action, rec.target) == ("test", "config.changed", TOWN_YAML.name)
    assert rec.detail["sha256"] == hashlib.sha256(TOWN_YAML.read_bytes()).hexdigest()
    db.dispose()
