"""Helpers of the tests on the rendered scenes: a camera's pipeline on a scene's frames, and
the path of an analytics event to the rules as in the running system (the worker's MQTT
message, the ingest decoder, the municipality's rule engine)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from cityops.domain.analytics import AnalyticsEventKind
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.engine import RuleEngine
from cityops.domain.entities import Camera
from cityops.domain.rules import Trigger
from cityops.ingest.payloads import decode_events, parse_topic
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.analytics.types import AnalyticsEvent, FrameResult
from cityops.video.synthetic import SyntheticScene, open_synthetic
from cityops.video.worker.publish import result_messages


def triggers(
    config: MunicipalityConfig, seen: Sequence[tuple[Camera, AnalyticsEvent]]
) -> list[Trigger]:
    """What the municipality's rules make of the events, published one by one by a worker for
    their cameras, in order of time."""
    engine = RuleEngine(config.municipality, config.rules, config.sensors, config.cameras)
    out: list[Trigger] = []
    for camera, event in sorted(seen, key=lambda s: s[1].ts):
        (message,) = result_messages(camera, FrameResult(events=(event,)), {"worker": "w"})
        topic = parse_topic(message.topic)
        assert topic is not None
        cameras = {camera.id: camera}
        decoded = decode_events(json.loads(message.payload), topic, cameras, event.ts, 10)
        assert decoded.rejections == []
        for stored in decoded.events:
            out += engine.on_event(stored)
    return out


def stopped_events(
    camera: Camera, scene: SyntheticScene, t0: float, t1: float
) -> list[AnalyticsEvent]:
    """Every stopped_vehicle the camera's pipeline reports on [t0, t1), at its analysis rate."""
    assert camera.analytics is not None
    pipeline = CameraPipeline(camera, timezone="Europe/Sofia")
    found, step, k = [], 1.0 / camera.analytics.fps, 0
    while (t := t0 + k * step) < t1:
        result = pipeline.process(scene.frame_at(t), datetime.fromtimestamp(t, UTC))
        found += [e for e in result.events if e.kind is AnalyticsEventKind.STOPPED_VEHICLE]
        k += 1
    return found


def demo_camera(config: MunicipalityConfig, camera_id: str) -> tuple[Camera, SyntheticScene]:
    """A demo camera with its analytics, and the scene the demo shows for it."""
    camera = config.camera(camera_id)
    assert camera is not None
    assert camera.analytics is not None
    assert camera.demo_stream_url is not None
    return camera, open_synthetic(camera.demo_stream_url)
