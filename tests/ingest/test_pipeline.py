"""The ingest path without a broker: decode -> store -> rules -> incidents, bad input kept."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, Table, func, select

from cityops.app import load_runtimes
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.services.live import LiveMessage, SensorPayload
from cityops.services.views import IncidentSummary
from cityops.store import tables as t
from tests.town import MUNI, FrozenClock


def msg(
    topic: str, doc: Any, at: datetime, outcomes: list[MessageOutcome] | None = None
) -> InboundMessage:
    payload = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return InboundMessage(
        topic, payload, at, done=outcomes.append if outcomes is not None else None
    )


def level(
    pipeline: IngestPipeline, clock: FrozenClock, value: float, sensor: str = "river-1"
) -> None:
    pipeline.process(
        [
            msg(
                f"cityops/{MUNI}/sensors/{sensor}/readings",
                {"value": value, "unit": "m", "ts": clock.now.isoformat()},
                clock.now,
            )
        ]
    )


def count(db: Engine, table: Table) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def incidents(db: Engine) -> list[dict[str, Any]]:
    with db.connect() as conn:
        return [
            dict(r) for r in conn.execute(select(t.incidents).order_by(t.incidents.c.id)).mappings()
        ]


def test_threshold_for_duration_opens_one_incident_with_cameras(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    for _ in range(10):  # 2.9 m for 9 minutes: not yet
        level(pipeline, clock, 2.9)
        clock.advance(minutes=1)
    assert incidents(db) == []
    level(pipeline, clock, 2.95)  # ten minutes above 2.8
    found = incidents(db)
    assert [(i["rule_id"], i["status"], i["dedup_key"]) for i in found] == [
        ("flood-level", "new", "flood-level|river-1")
    ]
    assert found[0]["title"] == "River level high at River gauge 1"
    assert found[0]["title_local"] == "Високо ниво на реката при Водомер 1: 2.95 m"
    assert found[0]["proposed_agency"] == "civil-protection"
    for _ in range(20):  # stays high, then flaps inside the hysteresis band: no new incident
        clock.advance(minutes=1)
        level(pipeline, clock, 2.7 if clock.now.minute % 2 else 3.0)
    assert len(incidents(db)) == 1
    assert [m.payload.id for m in seen if isinstance(m.payload, IncidentSummary)] == [
        found[0]["id"]
    ]
    assert [m.payload.state for m in seen if isinstance(m.payload, SensorPayload)][-1] == "alarm"


def test_cameras_that_see_the_place_are_attached(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    topic_a = f"cityops/{MUNI}/cameras/cam-a/events"
    topic_b = f"cityops/{MUNI}/cameras/cam-b/events"
    batch = [
        msg(
            topic_a,
            {
                "id": "e1",
                "kind": "collision",
                "ts": clock.now.isoformat(),
                "lon": 25.3925,
                "lat": 42.6194,
            },
            clock.now,
        ),
        msg(
            topic_b,
            {
                "id": "e2",
                "kind": "stopped_vehicle",
                "ts": clock.now.isoformat(),
                "lon": 25.3926,
                "lat": 42.6195,
            },
            clock.now,
        ),
        msg(
            topic_a,
            {
                "id": "e3",
                "kind": "crowd",
                "ts": clock.now.isoformat(),
                "lon": 25.3924,
                "lat": 42.6193,
            },
            clock.now,
        ),
    ]
    pipeline.process(batch)
    pipeline.process(batch)  # redelivered after a crash: stored once, no second trigger
    found = incidents(db)
    assert [i["type"] for i in found] == ["traffic_accident"]
    assert sorted(c["camera_id"] for c in found[0]["cameras"]) == ["cam-a", "cam-b"]
    assert found[0]["event_count"] == 3
    assert count(db, t.events) == 3


RIVER = f"cityops/{MUNI}/sensors/river-1/readings"
CAMERA = f"cityops/{MUNI}/cameras/cam-a/events"
BAD = [
    ("cityops/testtown/sensors/river-1/readings", b"{not json", "malformed_json"),
    ("cityops/testtown/sensors/nope/readings", {"value": 1.0}, "unknown_sensor"),
    ("cityops/testtown/sensors/river-1/readings", {"value": 150, "unit": "cm"}, "wrong_unit"),
    ("cityops/testtown/sensors/river-1/readings", {"value": 99.0}, "out_of_range"),
    ("cityops/testtown/sensors/river-1/readings", b"[" * 5000, "too_large"),
    ("cityops/testtown/sensors/river-1/readings", {"value": "high"}, "bad_shape"),
    ("cityops/testtown/sensors/river-1/readings", {"value": 1, "ts": "yesterday"}, "bad_timestamp"),
    (
        "cityops/testtown/sensors/river-1/readings",
        {"value": 1, "ts": "2026-11-20T10:00:00"},
        "bad_timestamp",
    ),
    ("cityops/nowhere/sensors/river-1/readings", {"value": 1.0}, "unknown_municipality"),
    ("cityops/testtown/cameras/ghost/events", {"kind": "person"}, "unknown_camera"),
    ("elsewhere/topic", {"value": 1.0}, "bad_topic"),
    (
        "cityops/testtown/readings",
        {"readings": [{"sensor": "river-1", "value": 1}] * 101},
        "batch_too_large",
    ),
    ("cityops/testtown/cameras/cam-a/events", {"kind": "<script>alert(1)</script>"}, "bad_shape"),
    # NUL cannot be stored by PostgreSQL: refused at the edge, and kept as a dead letter
    ("cityops/testtown/cameras/cam-a/events", {"kind": "person", "id": "a\u0000b"}, "bad_shape"),
    ("cityops/testtown/sensors/river-1/readings", b'{"value": 1}\x00\xff', "malformed_json"),
    # the hostile-input probe (issue 6): each of these once ended the ingest thread
    (RIVER, b'{"value": 1e400}', "not_finite"),
    (RIVER, b'{"value": NaN}', "not_finite"),
    (RIVER, b'{"value": -Infinity}', "not_finite"),
    (RIVER, b'{"value": 1' + b"0" * 400 + b"}", "not_finite"),  # float() overflows
    (RIVER, {"value": 1, "ts": "0001-01-01T00:00:00+14:00"}, "bad_timestamp"),
    (RIVER, {"value": 1, "ts": "9999-12-31T23:59:59-14:00"}, "bad_timestamp"),
    (RIVER, {"value": 1, "ts": 10**400}, "bad_timestamp"),
    (RIVER, {"value": 1, "ts": 1e400}, "bad_timestamp"),
    (RIVER, {"value": 1, "ts": "1900-01-01T00:00:00Z"}, "too_old"),
    (RIVER, {"value": 1, "ts": 0}, "too_old"),
    (CAMERA, b'{"kind": "person", "confidence": 1e400}', "not_finite"),
    (CAMERA, b'{"kind": "person", "lon": 1e400, "lat": 42}', "not_finite"),
    (CAMERA, b'{"kind": "person", "lon": 25, "lat": -1' + b"0" * 400 + b"}", "not_finite"),
    (CAMERA, b'{"kind": "person", "zone": "\\ud800"}', "bad_shape"),  # a lone surrogate
    (CAMERA, b'{"kind": "person", "id": "\\udfff\\u0000"}', "bad_shape"),
]


@pytest.mark.parametrize(
    ("topic", "doc", "reason"), BAD, ids=[b[2] + str(i) for i, b in enumerate(BAD)]
)
def test_bad_input_is_rejected_counted_kept_and_good_data_survives(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine, topic: str, doc: Any, reason: str
) -> None:
    outcomes: list[MessageOutcome] = []
    good = msg(f"cityops/{MUNI}/sensors/river-2/readings", {"value": 1.25}, clock.now, outcomes)
    pipeline.process([msg(topic, doc, clock.now, outcomes), good])
    assert [o.accepted for o in outcomes] == [0, 1]
    assert [r.reason.value for r in outcomes[0].rejections] == [reason]
    assert pipeline.metrics.snapshot()["rejected_by_reason"] == {reason: 1}
    with db.connect() as conn:
        letter = conn.execute(select(t.dead_letters)).mappings().one()
        assert letter["reason_code"] == reason
        assert letter["topic"] == topic
        assert letter["payload_size"] == len(
            doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        )
        values = conn.execute(select(t.readings.c.sensor_id, t.readings.c.value)).all()
    assert [tuple(v) for v in values] == [("river-2", 1.25)]


def test_batch_keeps_good_items_and_rejects_bad_ones(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    outcomes: list[MessageOutcome] = []
    doc = {
        "readings": [
            {"sensor": "river-1", "value": 1.1, "ts": clock.now.isoformat()},
            {"sensor": "river-1", "value": -4},
            {"sensor": "pm10-1", "value": 30, "unit": "ug/m3"},
            {"sensor": "ghost", "value": 1},
        ]
    }
    pipeline.process([msg(f"cityops/{MUNI}/readings", doc, clock.now, outcomes)])
    assert outcomes[0].accepted == 2
    assert [(r.index, r.reason.value) for r in outcomes[0].rejections] == [
        (1, "out_of_range"),
        (3, "unknown_sensor"),
    ]
    assert count(db, t.readings) == 2
    assert count(db, t.dead_letters) == 2


def test_silence_opens_offline_incident_and_return_is_noted(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    for sensor in ("river-1", "river-2"):
        level(pipeline, clock, 1.0, sensor)
    pipeline.process([msg(f"cityops/{MUNI}/sensors/pm10-1/readings", {"value": 20}, clock.now)])
    clock.advance(minutes=10)
    level(pipeline, clock, 1.0, "river-1")
    pipeline.process([msg(f"cityops/{MUNI}/sensors/pm10-1/readings", {"value": 20}, clock.now)])
    clock.advance(minutes=6)
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    pipeline.tick()  # river-2 silent for 16 min (offline), the others for 6 (stale: 3 x 1 min)
    assert [
        (m.payload.id, m.payload.state) for m in seen if isinstance(m.payload, SensorPayload)
    ] == [
        ("river-2", "offline"),
        ("river-1", "stale"),
        ("pm10-1", "stale"),
    ]
    found = incidents(db)
    assert [(i["type"], i["dedup_key"]) for i in found] == [
        ("sensor_offline", "sensor-offline|river-2")
    ]
    level(pipeline, clock, 1.0, "river-2")
    with db.connect() as conn:
        kinds = conn.execute(select(t.incident_timeline.c.kind).order_by(t.incident_timeline.c.id))
        assert list(kinds.scalars()) == ["created", "cleared"]


def test_rule_state_survives_a_restart(db: Engine, clock: FrozenClock) -> None:
    first = IngestPipeline(db, load_runtimes(db), clock=clock)
    first.restore()
    for _ in range(6):  # six minutes above the threshold, then the process dies
        level(first, clock, 3.0)
        clock.advance(minutes=1)
    second = IngestPipeline(db, load_runtimes(db), clock=clock)
    second.restore()
    for _ in range(5):
        level(second, clock, 3.0)
        clock.advance(minutes=1)
    assert [i["rule_id"] for i in incidents(db)] == ["flood-level"]
    with db.connect() as conn:
        created = conn.execute(select(t.incidents.c.created_at)).scalar_one()
    assert created == clock.now - timedelta(minutes=1)  # raised at minute 10, not minute 14


def test_a_message_the_database_refuses_becomes_a_dead_letter(
    pipeline: IngestPipeline, clock: FrozenClock, db: Engine
) -> None:
    with db.begin() as conn:  # the database itself refuses one event: a real failure, no mock
        if db.dialect.name == "sqlite":
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events WHEN NEW.event_id = 'poison' "
                "BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "IF NEW.event_id = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events FOR EACH ROW "
                "EXECUTE FUNCTION refuse()"
            )
    outcomes: list[MessageOutcome] = []
    topic = f"cityops/{MUNI}/cameras/cam-a/events"
    pipeline.process(
        [
            msg(topic, {"id": "poison", "kind": "person"}, clock.now, outcomes),
            msg(f"cityops/{MUNI}/sensors/river-2/readings", {"value": 1.5}, clock.now, outcomes),
            msg(topic, {"id": "fine", "kind": "person"}, clock.now, outcomes),
        ]
    )
    assert [(o.accepted, [r.reason.value for r in o.rejections]) for o in outcomes] == [
        (0, ["internal_error"]),  # after three failed tries the batch is split...
        (1, []),  # ...and the other messages are stored one by one
        (1, []),
    ]
    with db.connect() as conn:
        assert conn.execute(select(t.events.c.event_id)).scalars().all() == ["fine"]
        letter = conn.execute(select(t.dead_letters)).mappings().one()
    assert letter["reason_code"] == "internal_error"
    assert json.loads(letter["payload"]) == {"id": "poison", "kind": "person"}
    assert count(db, t.readings) == 1
