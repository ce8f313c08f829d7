"""Frigate's events through the ingest pipeline (SQLite and PostgreSQL): a person Frigate sees
in the school yard at night opens the intrusion incident; an unknown camera is dead-lettered."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from cityops.app import import_config, load_runtimes
from cityops.ingest.payloads import Reason
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.store import tables as t
from tests.ingest.test_frigate import MESSAGES, frigate_object, message
from tests.ingest.test_pipeline import count, incidents
from tests.town import TOWN_YAML, FrozenClock

FRIGATE_SECTION = """\
frigate:
  topic_prefix: town/frigate
  cameras: {school_gate: cam-school}
  labels: {person: person}
  min_score: 0.6
"""
NIGHT = datetime(2026, 11, 20, 21, 10, tzinfo=UTC)
"""23:10 in Sofia: inside the school-night rule's 22:00-06:00."""


def frigate_pipeline(db: Engine, tmp_path: Path) -> IngestPipeline:
    path = tmp_path / "testtown.yaml"
    path.write_text(TOWN_YAML.read_text(encoding="utf-8") + FRIGATE_SECTION, encoding="utf-8")
    import_config(db, path, actor="test")
    pipeline = IngestPipeline(db, load_runtimes(db), clock=FrozenClock(NIGHT))
    pipeline.restore()
    return pipeline


def send(pipeline: IngestPipeline, topic: str, doc: Any) -> MessageOutcome:
    outcomes: list[MessageOutcome] = []
    payload = json.dumps(doc).encode()
    pipeline.process([InboundMessage(topic, payload, NIGHT, done=outcomes.append)])
    (outcome,) = outcomes
    return outcome


def test_a_frigate_person_opens_the_incident_once_and_an_unknown_camera_is_dead_lettered(
    db: Engine, tmp_path: Path
) -> None:
    pipeline = frigate_pipeline(db, tmp_path)
    start = (NIGHT - timedelta(seconds=5)).timestamp()
    after = frigate_object(id=f"{start:.6f}-k2j4", start_time=start, frame_time=start + 1)
    new = message("new", after)
    assert send(pipeline, "town/frigate/events", new).accepted == 1
    send(pipeline, "town/frigate/events", new)  # redelivered
    send(pipeline, "town/frigate/events", message("update", dict(after, top_score=0.97)))
    send(pipeline, "town/frigate/events", message("end", dict(after, end_time=start + 9)))
    found = incidents(db)
    assert [(i["rule_id"], i["type"], i["status"]) for i in found] == [
        ("school-night", "intrusion", "new")
    ]
    with db.connect() as conn:
        stored = conn.execute(select(t.events)).mappings().all()
    assert [(e["event_id"], e["source_id"], e["kind"], e["zone"]) for e in stored] == [
        (f"frigate:{start:.6f}-k2j4", "cam-school", "person", "school-yard")
    ]
    assert count(db, t.dead_letters) == 0

    garage = message("new", frigate_object(camera="garage", start_time=start))
    outcome = send(pipeline, "town/frigate/events", garage)
    assert (outcome.accepted, [r.reason.value for r in outcome.rejections]) == (
        0,
        ["unknown_camera"],
    )
    with db.connect() as conn:
        letter = conn.execute(select(t.dead_letters)).mappings().one()
    assert (letter["reason_code"], letter["municipality"], letter["topic"]) == (
        "unknown_camera",
        "testtown",
        "town/frigate/events",
    )
    assert pipeline.metrics.snapshot()["rejected_by_reason"] == {"unknown_camera": 1}
    other = send(pipeline, "frigate/events", new)  # a prefix nobody configured
    assert [r.reason.value for r in other.rejections] == ["bad_topic"]
    assert count(db, t.events) == 1


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(docs=st.lists(MESSAGES, min_size=1, max_size=5))
def test_the_pipeline_takes_any_frigate_message(
    db: Engine, tmp_path_factory: pytest.TempPathFactory, docs: list[Any]
) -> None:
    """Whatever Frigate (or anyone on its topic) sends, each message gets an outcome (never a
    decoder failure), and every event stored is a mapped camera's."""
    pipeline = frigate_pipeline(db, tmp_path_factory.mktemp("frigate"))
    outcomes: list[MessageOutcome] = []
    batch = [
        InboundMessage(
            "town/frigate/events",
            json.dumps(doc).encode("utf-8", "surrogatepass"),
            NIGHT,
            done=outcomes.append,
        )
        for doc in docs
    ]
    pipeline.process(batch)
    assert len(outcomes) == len(batch)
    assert all(r.reason is not Reason.INTERNAL for o in outcomes for r in o.rejections)
    with db.connect() as conn:
        sources = set(conn.execute(select(t.events.c.source_id)).scalars())
    assert sources <= {"cam-school"}
