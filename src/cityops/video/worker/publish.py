"""What the worker publishes: the analytics' results as the existing MQTT payloads.

Events go to ``cityops/<m>/cameras/<c>/events`` (docs/MQTT.md), line counts as readings of the
line's counter sensors to ``cityops/<m>/sensors/<sensor>/readings``. An event's id is a digest of
(camera, kind, track, zone, time): a re-sent event is stored once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from cityops.domain.entities import Camera
from cityops.video.analytics.types import AnalyticsEvent, Box, FrameResult, LineCount

WORKERS_TOPIC = "cityops/_workers"
"""``cityops/_workers/<worker-id>``: a live worker's retained presence (cleared by its will)."""


EMPTY: Mapping[str, str] = {}
MAX_DETECTIONS = 100
"""At most this many objects in one detections message."""


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


def iso(ts: datetime) -> str:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_id(camera: Camera, event: AnalyticsEvent) -> str:
    key = "|".join(
        (camera.id, event.kind, str(event.track_id or ""), event.zone or "", iso(event.ts))
    )
    return f"{camera.id}-{event.kind}-{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}"


def _box(box: Box) -> str:
    return ",".join(f"{v:.4f}" for v in (box.x1, box.y1, box.x2, box.y2))


def event_payload(
    camera: Camera, event: AnalyticsEvent, extra: Mapping[str, str] = EMPTY
) -> dict[str, object]:
    attributes = {**extra, **event.attributes}
    if event.track_id is not None:
        attributes["track"] = str(event.track_id)
    if event.cls is not None:
        attributes["class"] = event.cls.value
    if event.boxes:
        attributes["boxes"] = ";".join(_box(b) for b in event.boxes)
    doc: dict[str, object] = {"id": event_id(camera, event), "kind": event.kind.value}
    doc["ts"] = iso(event.ts)
    if event.zone is not None:
        doc["zone"] = event.zone
    if event.confidence is not None:
        doc["confidence"] = round(min(1.0, max(0.0, event.confidence)), 4)
    doc["attributes"] = attributes
    return doc


def events_message(
    camera: Camera, events: tuple[AnalyticsEvent, ...], extra: Mapping[str, str] = EMPTY
) -> Message | None:
    """All of a frame's events in one message (a batch), or None when there are none;
    ``extra``: attributes every event carries (the worker that saw it)."""
    if not events:
        return None
    docs = [event_payload(camera, e, extra) for e in events]
    body = docs[0] if len(docs) == 1 else {"events": docs}
    topic = f"cityops/{camera.municipality}/cameras/{camera.id}/events"
    return Message(topic, json.dumps(body, separators=(",", ":")).encode())


def count_messages(camera: Camera, counts: tuple[LineCount, ...]) -> list[Message]:
    """One reading per counted interval for each line direction that has a counter sensor: the
    number of crossings in the interval ending at ``ts`` (summed over the line's classes)."""
    totals: dict[tuple[str, datetime], int] = {}
    for c in counts:
        if c.sensor_id is not None:
            totals[(c.sensor_id, c.end)] = totals.get((c.sensor_id, c.end), 0) + c.count
    return [
        Message(
            f"cityops/{camera.municipality}/sensors/{sensor}/readings",
            json.dumps({"value": n, "ts": iso(end)}, separators=(",", ":")).encode(),
        )
        for (sensor, end), n in totals.items()
    ]


def detections_message(camera: Camera, result: FrameResult, ts: datetime) -> Message:
    """What the camera sees now (the camera wall draws it): its tracked objects, retained on
    ``cityops/<m>/cameras/<c>/detections`` (QoS 0: only the newest matters)."""
    objects = [
        {"track": o.track_id, "label": o.cls.value, "box": [_clamp(v) for v in _coords(o.box)]}
        for o in result.objects[:MAX_DETECTIONS]
    ]
    doc = {"ts": iso(ts), "objects": objects}
    topic = f"cityops/{camera.municipality}/cameras/{camera.id}/detections"
    return Message(topic, json.dumps(doc, separators=(",", ":")).encode(), qos=0, retain=True)


def cleared_detections(camera: Camera) -> Message:
    """Removes the camera's retained detections (it stopped running here)."""
    topic = f"cityops/{camera.municipality}/cameras/{camera.id}/detections"
    return Message(topic, b"", qos=0, retain=True)


def _clamp(v: float) -> float:
    return round(min(1.0, max(0.0, v)), 4)


def _coords(box: Box) -> tuple[float, float, float, float]:
    return (box.x1, box.y1, box.x2, box.y2)


def result_messages(
    camera: Camera, result: FrameResult, extra: Mapping[str, str] = EMPTY
) -> list[Message]:
    events = events_message(camera, result.events, extra)
    return [*([events] if events else []), *count_messages(camera, result.counts)]
