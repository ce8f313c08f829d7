"""Which rule-state rows a batch writes, and what keeps a redelivered reading from triggering
twice once a threshold entry is no longer rewritten with every reading: the sensors table's
``last_ts``, committed with the batch (domain/engine.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from cityops.app import import_config, load_runtimes
from cityops.ingest.pipeline import InboundMessage, IngestPipeline
from cityops.store import tables as t
from tests.ingest.test_pipeline import incidents, msg
from tests.town import MUNI, FrozenClock

PM10 = f"cityops/{MUNI}/sensors/pm10-1/readings"


def state_rows(db: Engine) -> dict[str, tuple[Any, datetime]]:
    """key -> (value, updated_at) of the town's rule state."""
    c = t.rule_state.c
    with db.connect() as conn:
        rows = conn.execute(select(c.key, c.value, c.updated_at).where(c.municipality == MUNI))
        return {r.key: (r.value, r.updated_at) for r in rows}


def pm10(pipeline: IngestPipeline, clock: FrozenClock, value: float) -> None:
    pipeline.process([msg(PM10, {"value": value, "ts": clock.now.isoformat()}, clock.now)])


def test_a_threshold_entry_is_written_only_when_its_state_changes(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    started = clock.now
    for value in (20, 30, 25):  # below pm10-high's 50: the rule stays idle, no row
        pm10(pipeline, clock, value)
        clock.advance(minutes=1)
    rows = state_rows(db)
    assert "pm10-high|pm10-1" not in rows
    assert rows["sensor-offline|pm10-1"][1] == started  # when it started counting, not since
    pm10(pipeline, clock, 60)  # above: pending for the rule's hour
    pending_at = clock.now
    value, written = state_rows(db)["pm10-high|pm10-1"]
    assert (value["active"], value["pending_since"], written) == (
        False,
        pending_at.timestamp(),
        pending_at,
    )
    for reading in (70, 80, 65):  # still above, still pending: the row is not rewritten
        clock.advance(minutes=1)
        pm10(pipeline, clock, reading)
    assert state_rows(db)["pm10-high|pm10-1"] == (value, written)
    assert state_rows(db)["sensor-offline|pm10-1"][1] == started
    clock.advance(minutes=1)
    pm10(pipeline, clock, 10)  # back below: idle again, the row goes
    assert "pm10-high|pm10-1" not in state_rows(db)


GAUGES = """\
version: 1
municipality: {id: gauges, name: Gauges, center: {lon: 25.39, lat: 42.62}}
agencies: [{id: cp, name: Civil Protection, kind: civil_protection}]
sensors:
  - {id: g1, name: Gauge 1, kind: river_level, unit: m, lon: 25.30, lat: 42.58, valid_min: 0,
     valid_max: 100, expected_interval_s: 60}
rules:
  - {id: high, kind: threshold, sensor_kinds: [river_level], op: '>', value: 50,
     incident: {type: flood, sector: disaster, severity: severe, title: 'High {name}'}}
"""
"""A town whose one gauge only a threshold rule watches: no other entry of the gauge (a rate
of change's, a silence's) carries the newest reading time, so only the sensors table's mark
can keep a redelivered reading from being judged again."""


def timeline(db: Engine) -> list[str]:
    with db.connect() as conn:
        return list(conn.execute(select(t.incident_timeline.c.kind)).scalars())


def test_readings_redelivered_after_a_restart_never_trigger_twice(
    db: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    """The process dies after committing but before its PUBACKs reached the broker, once the
    threshold rule has raised and cleared (so it has no state entry at all): every reading
    comes again, and an older one never seen arrives late. Nothing is judged twice, nothing is
    stored twice; newer readings are judged as before the stop."""
    (tmp_path / "gauges.yaml").write_text(GAUGES)
    import_config(db, tmp_path / "gauges.yaml", actor="test")
    topic = "cityops/gauges/sensors/g1/readings"
    first = IngestPipeline(db, load_runtimes(db), clock=clock)
    first.restore()
    sent: list[InboundMessage] = []
    for value in (60.0, 70.0, 1.0, 2.0):  # raised by the first, cleared by the third
        sent.append(msg(topic, {"value": value, "ts": clock.now.isoformat()}, clock.now))
        first.process([sent[-1]])
        clock.advance(minutes=1)
    assert [i["rule_id"] for i in incidents(db)] == ["high"]
    before = timeline(db)
    assert len(before) == 2  # created, cleared
    c = t.rule_state.c
    with db.connect() as conn:
        assert conn.execute(select(c.key).where(c.municipality == "gauges")).all() == []
        stored = conn.execute(select(func.count()).select_from(t.readings)).scalar_one()

    second = IngestPipeline(db, load_runtimes(db), clock=clock)
    second.restore()
    second.process([InboundMessage(m.topic, m.payload, clock.now) for m in sent])
    late = (sent[2].received_at + timedelta(seconds=30)).isoformat()  # between two, above 50
    second.process([msg(topic, {"value": 80.0, "ts": late}, clock.now)])
    assert timeline(db) == before
    with db.connect() as conn:
        after = conn.execute(select(func.count()).select_from(t.readings)).scalar_one()
    assert after == stored + 1  # the duplicates stored once; the late reading kept, not judged
    second.process([msg(topic, {"value": 60.0, "ts": clock.now.isoformat()}, clock.now)])
    assert len(timeline(db)) == 3  # a new reading above the limit raises again
