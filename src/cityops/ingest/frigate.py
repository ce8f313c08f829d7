"""Frigate's MQTT event messages (``<topic_prefix>/events``) as CityOps camera events.

Pure, like ``payloads``: a message becomes events of the municipality's cameras (through its
``frigate:`` mapping), or a ``Rejected`` with a reason. What a message gives (docs/MQTT.md
"Frigate"):

- ``new``: one event ``frigate:<id>`` of the mapped kind, in the first entered zone, at
  ``start_time``, with ``top_score`` as confidence; and one ``frigate:<id>:<zone>`` for each
  further zone it has already entered;
- ``update``: one event ``frigate:<id>:<zone>`` per zone in ``after.entered_zones`` that is not
  in ``before.entered_zones``, at ``after.frame_time``; nothing else (better snapshots, moves);
- ``end``, a false positive, a label not mapped, a score below ``min_score``: nothing.

Event ids are unique per municipality, so a redelivered message is stored once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cityops.domain.catalog import FrigateSource
from cityops.domain.entities import Camera
from cityops.domain.observations import Event, EventSource
from cityops.ingest.payloads import (
    DEFAULT_WINDOW,
    Decoded,
    Reason,
    Rejected,
    TimeWindow,
    as_number,
    as_text,
    parse_ts,
    show,
)

TYPES = ("new", "update", "end")
_FRIGATE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}")
"""Frigate's object ids: ``1607123955.475377-mxklsc``."""
MAX_ZONES = 32


def frigate_prefix(topic: str) -> str | None:
    """The topic prefix of a Frigate events topic (``frigate/events`` -> ``frigate``)."""
    prefix, _, last = topic.rpartition("/")
    return prefix if prefix and last == "events" else None


def _object(doc: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = doc.get(key)
    if not isinstance(value, Mapping):
        raise Rejected(Reason.SHAPE, f"Frigate message: {key!r} must be an object")
    return value


def _required_text(obj: Mapping[str, Any], key: str) -> str:
    value = as_text(obj.get(key), key)
    if not value:
        raise Rejected(Reason.SHAPE, f"Frigate message: 'after' has no {key!r}")
    return value


def _score(obj: Mapping[str, Any]) -> float | None:
    raw = obj.get("top_score", obj.get("score"))
    if raw is None:
        return None
    score = as_number(raw, "top_score")
    if not 0.0 <= score <= 1.0:
        raise Rejected(Reason.RANGE, f"top_score {score} outside 0..1")
    return score


def _zones(obj: Mapping[str, Any]) -> list[str]:
    raw = obj.get("entered_zones")
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > MAX_ZONES:
        raise Rejected(Reason.SHAPE, f"'entered_zones' must be a list of at most {MAX_ZONES}")
    zones: list[str] = []
    for item in raw:
        zone = as_text(item, "entered_zones")
        if not zone:
            raise Rejected(Reason.SHAPE, "'entered_zones' must hold zone names")
        if zone[:64] not in zones:
            zones.append(zone[:64])
    return zones


def _sub_label(raw: Any) -> str | None:
    """``"alice"`` or, since Frigate 0.13, ``["alice", 0.87]``."""
    if isinstance(raw, list) and raw:
        raw = raw[0]
    text = as_text(raw, "sub_label") if raw is None or isinstance(raw, str) else None
    return text[:200] if text else None


def _attributes(obj: Mapping[str, Any], frigate_id: str, name: str, label: str) -> dict[str, str]:
    out = {"frigate_id": frigate_id, "frigate_camera": name, "label": label[:64]}
    sub = _sub_label(obj.get("sub_label"))
    if sub:
        out["sub_label"] = sub
    for key in ("stationary", "has_clip", "has_snapshot"):
        if isinstance(obj.get(key), bool):
            out[key] = "true" if obj[key] else "false"
    return out


def decode_frigate(
    doc: Any,
    municipality: str,
    source: FrigateSource,
    cameras: Mapping[str, Camera],
    received_at: datetime,
    window: TimeWindow = DEFAULT_WINDOW,
) -> Decoded:
    """The events of one Frigate ``events`` message (see the module's description)."""
    if not isinstance(doc, Mapping):
        raise Rejected(Reason.SHAPE, "a Frigate event message must be a JSON object")
    kind_of_message = doc.get("type")
    if kind_of_message not in TYPES:
        raise Rejected(
            Reason.SHAPE,
            f"Frigate message 'type' must be new, update or end, not {show(kind_of_message)}",
        )
    after = _object(doc, "after")
    frigate_id = _required_text(after, "id")
    if not _FRIGATE_ID.fullmatch(frigate_id):
        raise Rejected(Reason.SHAPE, f"Frigate id {show(frigate_id)} is not an object id")
    name = _required_text(after, "camera")
    camera = cameras.get(source.cameras.get(name, ""))
    if camera is None:
        raise Rejected(Reason.CAMERA, f"Frigate camera {show(name)} is not in frigate.cameras")
    label = _required_text(after, "label")
    if "start_time" not in after:
        raise Rejected(Reason.SHAPE, "Frigate message: 'after' has no 'start_time'")
    start = parse_ts(as_number(after["start_time"], "start_time"), received_at, window)
    score = _score(after)
    entered = _zones(after)
    kind = source.labels.get(label)
    if (
        kind is None
        or kind_of_message == "end"
        or after.get("false_positive") is True
        or (score or 0.0) < source.min_score
    ):
        return Decoded()
    attributes = _attributes(after, frigate_id, name, label)

    def event(event_id: str, zone: str | None, ts: datetime) -> Event:
        return Event(
            municipality=municipality,
            event_id=event_id,
            source=EventSource.CAMERA,
            source_id=camera.id,
            kind=kind,
            ts=ts,
            position=camera.position,
            zone=zone,
            confidence=score,
            attributes=attributes,
        )

    base = f"frigate:{frigate_id}"
    if kind_of_message == "new":
        first = entered[0] if entered else None
        rest = [event(f"{base}:{zone}", zone, start) for zone in entered[1:]]
        return Decoded(events=[event(base, first, start), *rest])
    before = doc.get("before")
    known = _zones(before) if isinstance(before, Mapping) else []
    frame = after.get("frame_time")
    at = start if frame is None else parse_ts(as_number(frame, "frame_time"), received_at, window)
    return Decoded(
        events=[event(f"{base}:{zone}", zone, at) for zone in entered if zone not in known]
    )
