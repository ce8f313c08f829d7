"""What the worker runs and publishes: its camera jobs from the demo town's configuration, and
the analytics' events and line counts as MQTT messages that the real ingest decoder accepts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityops.config.loader import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import AnalyticsEventKind, LineDirection, ObjectClass
from cityops.ingest.payloads import decode_events, decode_readings, parse_topic
from cityops.video.analytics.types import AnalyticsEvent, Box, FrameResult, LineCount
from cityops.video.worker import camera_jobs
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


def test_where_clips_stand_in_only_health_is_judged(tmp_path: Path) -> None:
    """The demo's zones and lines fit its rendered scenes; on recorded clips they would report
    nonsense, so with clips the jobs carry no analytics (health only)."""
    config = load_config(DEMO_CONFIG)
    assert any(c.analytics for c in config.cameras)
    clip = tmp_path / "a.avi"
    with_clips = camera_jobs([config], [clip])
    assert {job.url for job in with_clips} == {str(clip)}
    assert all(job.camera.analytics is None for job in with_clips)
    rendered = camera_jobs([config], rendered=True)
    assert [j.camera for j in rendered] == list(config.cameras)
    assert all(j.url.startswith("synthetic://") for j in rendered)
