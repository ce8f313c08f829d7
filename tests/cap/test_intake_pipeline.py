"""A CAP alert file through the real ingest pipeline (SQLite): a warning for the town opens one
incident by a correlation rule on ``public_warning``; its update joins that incident; an alert
for elsewhere and a cancellation open nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from cityops.app import import_config, load_runtimes
from cityops.cap.area import Jurisdiction
from cityops.cap.book import AlertBook, Change
from cityops.domain.entities import LonLat
from cityops.ingest.cap_intake import CapIntake
from cityops.ingest.pipeline import IngestPipeline, MessageOutcome
from cityops.store import tables as t
from tests.cap.support import alert_xml
from tests.ingest.test_pipeline import count, incidents
from tests.town import TOWN_YAML, FrozenClock, town_db

RULE = """rules:
  - id: public-warning
    kind: correlation
    event_kinds: [public_warning]
    min_count: 1
    radius_m: 5000
    within: 12h
    incident:
      type: public_warning
      sector: disaster
      severity: severe
      title: Public warning for the town
      agency: civil-protection
"""
NOW = datetime(2026, 12, 3, 10, 30, tzinfo=UTC)
TOWN = Jurisdiction(
    "testtown",
    (LonLat(25.35, 42.58), LonLat(25.45, 42.58), LonLat(25.45, 42.66), LonLat(25.35, 42.66)),
    {"EMMA_ID": frozenset({"BG004"})},
)
FAR = "43.20,27.90 43.25,27.90 43.25,27.95 43.20,27.95 43.20,27.90"


def test_a_cap_file_opens_one_incident_by_rule(tmp_path: Path) -> None:
    yaml = TOWN_YAML.read_text(encoding="utf-8").replace("rules:\n", RULE, 1)
    path = tmp_path / "testtown.yaml"
    path.write_text(yaml, encoding="utf-8")
    db: Engine = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    try:
        import_config(db, path, actor="test")
        pipeline = IngestPipeline(db, load_runtimes(db), clock=FrozenClock(NOW))
        pipeline.restore()
        intake = CapIntake({"testtown": AlertBook(TOWN)})
        ref = "ops@kazanlak.bg,kazanlak-2026-001,2026-12-03T12:00:00+02:00"
        files = {
            "alert.cap": alert_xml(),
            "far.cap": alert_xml(identifier="far", polygon=FAR, circle=None, emma_id=None),
            "update.cap": alert_xml(identifier="k-2", msg_type="Update", references=ref),
            "cancel.cap": alert_xml(
                identifier="k-3",
                msg_type="Cancel",
                references="ops@kazanlak.bg,k-2,2026-12-03T12:00:00+02:00",
            ),
        }
        changes: list[Change] = []
        outcomes: list[MessageOutcome] = []
        for name, data in files.items():
            (tmp_path / name).write_bytes(data)
            got = intake.accept((tmp_path / name).read_bytes(), NOW)
            assert got.verdict.valid, got.verdict.reasons
            changes += [o.change for o in got.outcomes.get("testtown", [])]
            for message in got.messages:
                message.done = outcomes.append
            pipeline.process(got.messages)
        assert changes == [Change.OPENED, Change.UPDATED, Change.CANCELLED]
        assert [o.accepted for o in outcomes] == [1, 1]
        assert count(db, t.events) == 2
        (incident,) = incidents(db)
        assert incident["type"] == "public_warning"
        assert incident["rule_id"] == "public-warning"
    finally:
        db.dispose()
