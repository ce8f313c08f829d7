"""What the worker publishes is what ingest accepts: the analytics' events and line counts as
MQTT messages, decoded by the real ingest decoder against the demo town's cameras and sensors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from cityops.config.loader import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import AnalyticsEventKind, LineDirection, ObjectClass
from cityops.ingest.payloads import decode_events, decode_readings, parse_topic
from cityops.video.analytics.types import AnalyticsEvent, Box, FrameResult, LineCount
from cityops.video.worker.publish import event_id, result_messages

TS = datetime(2026, 12, 1, 10, 0, 5, tzinfo=UTC)


def test_events_and_counts_are_what_ingest_accepts() -> None:
    config = load_config(DEMO_CONFIG)
    camera = next(c for c in config.cameras if c.analytics and c.analytics.lines)
    line = next(line for line in camera.analytics.lines if line.sensors)  # type: ignore[union-attr]
    sensor = line.sensors[LineDirection.FORWARD]
    person = AnalyticsEvent(
        AnalyticsEventKind.INTRUSION,
        TS,
        zone="yard",
        track_id=7,
        cls=ObjectClass.PERSON,
        confidence=0.91,
        boxes=(Box(0.1, 0.2, 0.3, 0.6),),
        attributes={"since": TS.isoformat()},
    )
    start = TS - timedelta(seconds=65)
    counts = tuple(
        LineCount(
            line.id, LineDirection.FORWARD, cls, n, start, start + timedelta(minutes=1), sensor
        )
        for cls, n in ((ObjectClass.VEHICLE, 7), (ObjectClass.BICYCLE, 2))
    )
    result = FrameResult(events=(person, person), counts=counts)
    events_msg, reading_msg = result_messages(camera, result, {"worker": "w1"})

    topic = parse_topic(events_msg.topic)
    assert topic is not None
    decoded = decode_events(json.loads(events_msg.payload), topic, {camera.id: camera}, TS, 100)
    assert decoded.rejections == []
    assert len(decoded.events) == 2
    event = decoded.events[0]
    assert (event.kind, event.zone, event.confidence, event.ts) == ("intrusion", "yard", 0.91, TS)
    assert event.attributes == {
        "since": TS.isoformat(),
        "track": "7",
        "class": "person",
        "boxes": "0.1000,0.2000,0.3000,0.6000",
        "worker": "w1",
    }
    assert event.event_id == event_id(camera, person)  # stable: the same event, the same id
    assert decoded.events[1].event_id == event.event_id  # stored once

    topic = parse_topic(reading_msg.topic)
    assert topic is not None
    assert topic.source_id == sensor
    sensors = {s.id: s for s in config.sensors}
    readings = decode_readings(json.loads(reading_msg.payload), topic, sensors, TS, 100)
    assert readings.rejections == []
    assert [(r.value, r.ts) for r in readings.readings] == [(9.0, start + timedelta(minutes=1))]


def test_a_frame_without_results_publishes_nothing() -> None:
    camera = load_config(DEMO_CONFIG).cameras[0]
    assert result_messages(camera, FrameResult()) == []
