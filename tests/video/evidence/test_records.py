"""Evidence on the control center: an ingested camera event's references are recorded only when
they are the paths the control center itself expects for that event (no path from outside is
ever opened), listed with the incident the event opened; retention removes exactly what is old
and an erasure removes the files with the records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from cityops.app import load_runtimes
from cityops.domain.evidence import EvidenceKind, EvidenceRecord, evidence_path, refs_of
from cityops.ingest.pipeline import IngestPipeline
from cityops.ingest.worker import InboundMessage, MessageOutcome
from cityops.services import evidence
from cityops.store import evidence_repo
from cityops.store import tables as t
from cityops.store.tables_evidence import evidence as evidence_table
from tests.town import MUNI, FrozenClock, town_db

NIGHT = datetime(2026, 11, 20, 21, 10, tzinfo=UTC)
"""23:10 in Sofia: the school-night rule opens an intrusion incident on a person."""
CAM = "cam-school"


@pytest.fixture
def db(db_url: str) -> Engine:
    return town_db(db_url)


def refs(event_id: str, ts: datetime, camera: str = CAM) -> dict[str, str]:
    snap = evidence_path(MUNI, camera, ts, event_id, EvidenceKind.SNAPSHOT)
    clip = evidence_path(MUNI, camera, ts, event_id, EvidenceKind.CLIP)
    return {
        "snapshot": snap,
        "clip": clip,
        "clip_start": (ts - timedelta(seconds=5)).isoformat(),
        "clip_end": (ts + timedelta(seconds=5)).isoformat(),
    }


def send(pipeline: IngestPipeline, doc: Mapping[str, object]) -> MessageOutcome:
    outcomes: list[MessageOutcome] = []
    topic = f"cityops/{MUNI}/cameras/{CAM}/events"
    pipeline.process([InboundMessage(topic, json.dumps(doc).encode(), NIGHT, done=outcomes.append)])
    (outcome,) = outcomes
    return outcome


def test_an_ingested_event_records_its_evidence_with_its_incident(db: Engine) -> None:
    pipeline = IngestPipeline(db, load_runtimes(db), clock=FrozenClock(NIGHT))
    pipeline.restore()
    attrs = refs("ev-1", NIGHT)
    doc = {"id": "ev-1", "kind": "person", "ts": NIGHT.isoformat(), "zone": "school-yard"}
    assert send(pipeline, {**doc, "attributes": attrs}).accepted == 1
    with db.connect() as conn:
        (incident_id,) = conn.execute(select(t.incidents.c.id)).scalars()
        (rec,) = evidence.for_incident(conn, MUNI, incident_id)
    assert rec.snapshot == attrs["snapshot"]
    assert rec.clip == attrs["clip"]
    assert rec.clip_start == NIGHT - timedelta(seconds=5)
    assert rec.clip_end == NIGHT + timedelta(seconds=5)
    assert (rec.camera_id, rec.kind, rec.ts) == (CAM, "person", NIGHT)
    send(pipeline, {**doc, "attributes": attrs})  # redelivered: stored once
    with db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(evidence_table)).scalar_one() == 1


@pytest.mark.parametrize(
    "bad",
    [
        {"snapshot": "../../../etc/passwd"},
        {"snapshot": f"{MUNI}/{CAM}/2026-11-20/../../../x.jpg"},
        {"snapshot": f"other/{CAM}/2026-11-20/ev-2.jpg"},
        {"snapshot": f"{MUNI}/cam-a/2026-11-20/ev-2.jpg"},
        {"snapshot": f"{MUNI}/{CAM}/2026-11-20/ev-2.mp4"},
        {"snapshot": f"{MUNI}/{CAM}/2026-11-10/ev-2.jpg"},
        {"snapshot": f"/{MUNI}/{CAM}/2026-11-20/ev-2.jpg"},
        {"snapshot": f"{MUNI}/{CAM}/2026-11-20/.hidden.jpg"},
    ],
)
def test_a_reference_outside_the_events_own_directory_is_not_recorded(
    db: Engine, bad: dict[str, str]
) -> None:
    pipeline = IngestPipeline(db, load_runtimes(db), clock=FrozenClock(NIGHT))
    doc = {"id": "ev-2", "kind": "person", "ts": NIGHT.isoformat(), "attributes": bad}
    assert send(pipeline, doc).accepted == 1  # the event itself is kept
    with db.connect() as conn:
        assert evidence.find(conn, MUNI) == []


def test_a_clip_without_a_sane_window_is_not_recorded(db: Engine) -> None:
    pipeline = IngestPipeline(db, load_runtimes(db), clock=FrozenClock(NIGHT))
    attrs = {**refs("ev-3", NIGHT), "clip_end": (NIGHT - timedelta(seconds=1)).isoformat()}
    send(pipeline, {"id": "ev-3", "kind": "person", "ts": NIGHT.isoformat(), "attributes": attrs})
    with db.connect() as conn:
        (rec,) = evidence.find(conn, MUNI)
    assert rec.snapshot == attrs["snapshot"]
    assert rec.clip is None


@given(st.text(max_size=80), st.text(max_size=20))
def test_an_accepted_reference_never_leaves_its_directory(ref: str, tail: str) -> None:
    for candidate in (ref, f"{MUNI}/{CAM}/2026-11-20/{ref}", f"{MUNI}/{CAM}/{tail}/{ref}.jpg"):
        got = refs_of({"snapshot": candidate}, MUNI, CAM, NIGHT).snapshot
        if got is not None:
            root = Path("/srv/evidence")
            assert (root / got).resolve().is_relative_to(root / MUNI / CAM)
            assert ".." not in got
            assert got.endswith(".jpg")


def stored(root: Path, rec: EvidenceRecord) -> EvidenceRecord:
    """``rec``'s files written under ``root`` and the record stored."""
    for rel in (rec.snapshot, rec.clip):
        if rel:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"x")
    return rec


def rec(event_id: str, ts: datetime, clip_of: str | None = None) -> EvidenceRecord:
    r = refs(clip_of or event_id, ts)
    return EvidenceRecord(
        MUNI,
        event_id,
        CAM,
        "person",
        ts,
        evidence_path(MUNI, CAM, ts, event_id, EvidenceKind.SNAPSHOT),
        r["clip"],
        ts - timedelta(seconds=5),
        ts + timedelta(seconds=5),
        ts,
    )


def test_retention_removes_only_what_is_old(db: Engine, tmp_path: Path) -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    before = now - timedelta(days=30)
    old = rec("old", before - timedelta(days=2))
    edge_old = rec("edge-old", before - timedelta(seconds=2))
    edge_young = rec("edge-young", before + timedelta(seconds=1), clip_of="edge-old")
    young = rec("young", now - timedelta(days=1))
    records = [stored(tmp_path, r) for r in (old, edge_old, edge_young, young)]
    orphan_old = tmp_path / MUNI / CAM / "2026-10-01" / "never-ingested.jpg"
    orphan_young = tmp_path / MUNI / CAM / "2026-12-02" / "not-yet-ingested.jpg"
    for f in (orphan_old, orphan_young):
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"x")
    with db.begin() as conn:
        evidence_repo.insert(conn, records)
        assert evidence.prune(conn, tmp_path, MUNI, before) == 2
        left = evidence.find(conn, MUNI)
    assert [r.event_id for r in left] == ["edge-young", "young"]
    assert not (tmp_path / old.snapshot).exists()  # type: ignore[operator]
    assert not (tmp_path / old.clip).exists()  # type: ignore[operator]
    assert not (tmp_path / old.snapshot).parent.exists()  # type: ignore[operator]
    assert not (tmp_path / edge_old.snapshot).exists()  # type: ignore[operator]
    assert (tmp_path / edge_old.clip).exists()  # type: ignore[operator]  # the younger one's
    for r in (edge_young, young):
        assert (tmp_path / r.snapshot).exists()  # type: ignore[operator]
    assert not orphan_old.exists()
    assert orphan_young.exists()


def test_an_erasure_removes_the_files_and_a_shared_clip(db: Engine, tmp_path: Path) -> None:
    first = rec("first", NIGHT)
    second = rec("second", NIGHT + timedelta(seconds=2), clip_of="first")
    other = rec("other", NIGHT + timedelta(hours=1))
    with db.begin() as conn:
        evidence_repo.insert(conn, [stored(tmp_path, r) for r in (first, second, other)])
        found = evidence.find(conn, MUNI, CAM, NIGHT - timedelta(seconds=1), NIGHT)
        assert [r.event_id for r in found] == ["first", "second"]  # second's clip covers it
        assert evidence.delete(conn, tmp_path, [first.key]) == 1
        (left_second,) = [r for r in evidence.find(conn, MUNI) if r.event_id == "second"]
    assert left_second.clip is None  # its clip was the erased one's
    assert not (tmp_path / first.snapshot).exists()  # type: ignore[operator]
    assert not (tmp_path / first.clip).exists()  # type: ignore[operator]
    assert (tmp_path / second.snapshot).exists()  # type: ignore[operator]
    assert (tmp_path / other.clip).exists()  # type: ignore[operator]


def test_a_path_outside_the_root_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"):
        evidence.file_path(tmp_path, "../secret.jpg")
    assert evidence.file_path(tmp_path, f"{MUNI}/{CAM}/d/x.jpg").is_relative_to(tmp_path)
