"""Retention on SQLite and PostgreSQL: what is past its age goes, nothing younger is touched,
the hourly aggregates equal what the raw readings gave, the audit chain stays verifiable."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, select

from cityops.domain.audit import AuditAction
from cityops.domain.evidence import EvidenceRecord
from cityops.domain.observations import Event, EventSource, Reading
from cityops.domain.retention import DataKind, RetentionPolicy, hour_floor
from cityops.services import audit, retention
from cityops.services.retention import EvidenceStore
from cityops.store import audit_repo, evidence_repo, observations_repo
from cityops.store import tables as t
from cityops.store.observations_repo import DeadLetter
from cityops.store.tables_audit import reading_hourly
from tests.audit.support import migrated
from tests.town import MUNI, T0

NOW = T0 + timedelta(days=10)
POLICY = RetentionPolicy(
    evidence_days=3,
    readings_days=2,
    readings_hourly_days=8,
    events_days=4,
    dead_letters_days=1,
    audit_years=5 / 365.25,  # five days
)
OTHER = "elsewhere"


def _readings(rng: random.Random) -> list[Reading]:
    """Every 7 minutes over ten days for two sensors, plus one at the exact cut-off hour."""
    out = []
    for sensor in ("river-1", "river-2"):
        at = T0 + timedelta(seconds=rng.randint(0, 300))
        while at < NOW:
            out.append(Reading(MUNI, sensor, at, round(rng.uniform(-1.5, 9.5), 3)))
            at += timedelta(minutes=7)
    return out


def _expected_hours(
    readings: list[Reading], before: datetime
) -> dict[tuple[str, datetime], tuple[int, float, float, float]]:
    groups: dict[tuple[str, datetime], list[float]] = defaultdict(list)
    for r in readings:
        if r.ts < before:
            groups[(r.sensor_id, hour_floor(r.ts))].append(r.value)
    return {k: (len(v), min(v), max(v), sum(v) / len(v)) for k, v in groups.items()}


def _evidence(root: Path, day: datetime, n: int) -> EvidenceRecord:
    rel = f"{MUNI}/cam-a/{day:%Y-%m-%d}/ev-{n}"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / f"{rel}.jpg").write_bytes(b"jpeg")
    (root / f"{rel}.mp4").write_bytes(b"mp4")
    return EvidenceRecord(
        MUNI,
        f"ev-{n}",
        "cam-a",
        "person",
        day,
        f"{rel}.jpg",
        f"{rel}.mp4",
        day,
        day + timedelta(seconds=10),
        day,
    )


def _fill(db: Engine, root: Path) -> list[Reading]:
    rng = random.Random(8)
    readings = _readings(rng)
    days = [T0 + timedelta(days=d, hours=1) for d in range(10)]
    with db.begin() as conn:
        observations_repo.insert_readings(conn, readings)
        events = [
            Event(MUNI, f"ev-{i}", EventSource.CAMERA, "cam-a", "person", d)
            for i, d in enumerate(days)
        ]
        events.append(Event(OTHER, "ev-old", EventSource.CAMERA, "cam-x", "person", days[0]))
        observations_repo.insert_events(conn, events, NOW)
        evidence_repo.insert(conn, [_evidence(root, d, i) for i, d in enumerate(days)])
        letters = [
            DeadLetter(NOW - timedelta(hours=h), "mqtt", "t", "bad_json", "x", b"{", m)
            for h in (1, 20, 30, 50)
            for m in (MUNI, OTHER)
        ]
        observations_repo.insert_dead_letters(conn, letters)
    for i, d in enumerate(days):
        with db.begin() as conn:
            audit.record(
                conn,
                actor="op",
                action=AuditAction.VIDEO_LIVE,
                municipality=MUNI,
                target="cam-a",
                at=d,
                detail={"i": i},
            )
    with db.begin() as conn:
        audit.record(conn, actor="op", action=AuditAction.LOGIN, municipality=OTHER, at=days[0])
    return readings


def _count(db: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with db.connect() as conn:
        query = select(func.count()).select_from(table).where(*where)
        return int(conn.execute(query).scalar_one())


def test_a_run_removes_what_is_past_its_age_and_nothing_younger(
    db_url: str, tmp_path: Path
) -> None:
    db = migrated(db_url)  # no configuration import: its audit record would be the newest
    root = tmp_path / "evidence"
    readings = _fill(db, root)
    cut = POLICY.cutoffs(NOW, 30.0)
    raw_cut = hour_floor(NOW - timedelta(days=2))

    run = retention.run(db, MUNI, POLICY, EvidenceStore(root, 30.0), now=NOW)

    assert run.ok, run.error
    r, e, d = t.readings.c, t.events.c, t.dead_letters.c
    if db.dialect.name == "postgresql":
        # whole months only (docs/STORAGE.md): November is not over at the cut-off
        raw_cut = min(raw_cut, datetime(2026, 11, 1, tzinfo=UTC))
    young = [x for x in readings if x.ts >= raw_cut]
    assert run.removed["readings"] == len(readings) - len(young)
    assert _count(db, t.readings, r.municipality == MUNI) == len(young)
    assert _count(db, t.readings, r.ts < raw_cut) == 0
    # rollups of every hour equal what the raw rows gave, hour by hour
    with db.connect() as conn:
        stored = {
            (row["sensor_id"], row["hour"]): (row["count"], row["min"], row["max"], row["mean"])
            for row in conn.execute(select(reading_hourly)).mappings()
        }
    old_hour_cut = NOW - timedelta(days=8)
    everything = _expected_hours(readings, NOW + timedelta(hours=1))
    expected_kept = {k: v for k, v in everything.items() if k[1] >= old_hour_cut}
    assert stored.keys() == expected_kept.keys()
    for key, (n, lo, hi, mean) in expected_kept.items():
        got = stored[key]
        assert got[:3] == (n, lo, hi)
        assert got[3] == pytest.approx(mean, rel=1e-12)
    # on SQLite the removed hours' rollups are rewritten from exactly the rows deleted
    removed_hours = _expected_hours(readings, raw_cut)
    assert run.removed["readings_hourly_written"] == len(removed_hours)
    assert run.removed["readings_hourly"] == len(everything) - len(expected_kept)
    # events: four days; the other municipality's are not this run's
    assert _count(db, t.events, e.municipality == MUNI) == 4
    assert _count(db, t.events, e.municipality == OTHER) == 1
    # dead letters: one day, per municipality
    assert _count(db, t.dead_letters, d.municipality == MUNI) == 2
    assert _count(db, t.dead_letters, d.municipality == OTHER) == 4
    # evidence: three days, files with their rows
    assert cut[DataKind.EVIDENCE] == NOW - timedelta(days=3)
    kept = sorted(p.name for p in root.rglob("*") if p.is_file())
    assert kept == sorted(f"ev-{i}.{x}" for i in (7, 8, 9) for x in ("jpg", "mp4"))
    assert run.removed["evidence"] == 7
    # audit: five days pruned behind an anchor; the chain verifies from its new base
    with db.connect() as conn:
        records = list(audit_repo.chain_records(conn, MUNI))
        reports = {rep.chain: rep for rep in audit.verify(conn)}
        anchors = audit_repo.anchors(conn, MUNI)
    assert run.removed["audit"] == 5
    assert [rec.detail["i"] for rec in records if rec.action == "video.live"] == [5, 6, 7, 8, 9]
    assert records[-1].action == AuditAction.RETENTION_RUN
    assert records[-1].detail["removed"] == dict(run.removed)
    assert reports[MUNI].ok
    assert reports[OTHER].records == 1
    assert [a.seq for a in anchors] == [10]
    db.dispose()


def test_runs_are_stored_and_a_second_run_removes_nothing_more(db_url: str, tmp_path: Path) -> None:
    db = migrated(db_url)  # no configuration import: its audit record would be the newest
    root = tmp_path / "evidence"
    _fill(db, root)
    store = EvidenceStore(root, 30.0)
    first = retention.run(db, MUNI, POLICY, store, now=NOW)
    second = retention.run(db, MUNI, POLICY, store, now=NOW + timedelta(seconds=1))
    assert first.removed["events"] > 0
    # raw readings go by the hour on SQLite, by whole months on PostgreSQL (none here)
    assert (first.removed["readings"] > 0) == (db.dialect.name == "sqlite")
    assert {k: v for k, v in second.removed.items() if v} == {}
    runs = retention.last_runs(db, MUNI)
    assert [x.started_at for x in runs] == [second.started_at, first.started_at]
    assert runs[1].removed == first.removed
    assert runs[0].cutoffs["readings"] == "2026-11-28T10:00:00.000000Z"
    db.dispose()


def test_a_late_reading_of_an_aggregated_hour_is_merged(db_url: str, tmp_path: Path) -> None:
    db = migrated(db_url)  # no configuration import: its audit record would be the newest
    hour = T0 + timedelta(hours=2)
    policy = RetentionPolicy(
        readings_days=1, readings_hourly_days=0, events_days=0, dead_letters_days=0, audit_years=0
    )
    store = EvidenceStore(tmp_path, 30.0)
    with db.begin() as conn:
        observations_repo.insert_readings(
            conn,
            [
                Reading(MUNI, "river-1", hour + timedelta(minutes=m), v)
                for m, v in ((1, 1.0), (2, 3.0))
            ],
        )
    retention.run(db, MUNI, policy, store, now=NOW)
    with db.begin() as conn:
        observations_repo.insert_readings(
            conn, [Reading(MUNI, "river-1", hour + timedelta(minutes=50), 8.0)]
        )
    retention.run(db, MUNI, policy, store, now=NOW)
    with db.connect() as conn:
        row = conn.execute(select(reading_hourly)).mappings().one()
    assert (row["hour"], row["count"], row["min"], row["max"]) == (hour, 3, 1.0, 8.0)
    assert row["mean"] == pytest.approx(4.0)
    db.dispose()


def test_keeping_for_ever_removes_nothing(db_url: str, tmp_path: Path) -> None:
    db = migrated(db_url)  # no configuration import: its audit record would be the newest
    root = tmp_path / "evidence"
    readings = _fill(db, root)
    forever = RetentionPolicy(
        evidence_days=0,
        readings_days=0,
        readings_hourly_days=0,
        events_days=0,
        dead_letters_days=0,
        audit_years=0,
    )
    run = retention.run(
        db, MUNI, forever, EvidenceStore(root, 30.0), now=NOW + timedelta(days=3650)
    )
    assert run.ok
    assert run.removed == {}
    assert _count(db, t.readings) == len(readings)
    assert len([p for p in root.rglob("*") if p.is_file()]) == 20
    db.dispose()


def test_now_is_utc() -> None:
    assert NOW.tzinfo is UTC
