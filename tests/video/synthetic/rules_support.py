"""The path of an analytics event to the rules, as in the running system: the worker's MQTT
message, the ingest decoder, the municipality's rule engine."""

from __future__ import annotations

import json
from collections.abc import Sequence

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.engine import RuleEngine
from cityops.domain.entities import Camera
from cityops.domain.rules import Trigger
from cityops.ingest.payloads import decode_events, parse_topic
from cityops.video.analytics.types import AnalyticsEvent, FrameResult
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
