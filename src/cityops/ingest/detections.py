"""What a camera sees now (``cityops/<m>/cameras/<c>/detections``, retained, about once a second
from its video worker) -> a ``detections`` live message for the consoles' camera wall.

Nothing is stored and nothing goes through the pipeline: the message is checked (known
municipality and camera, at most 100 objects, boxes inside the image, a time with a zone) and
handed to the live feed, or dropped."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from cityops.services.live import DetectionsPayload, LiveKind, LiveMessage
from cityops.services.runtime import MunicipalityRuntime

DETECTIONS_TOPICS = "cityops/+/cameras/+/detections"
_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_TOPIC = re.compile(rf"^cityops/(?P<m>{_ID})/cameras/(?P<camera>{_ID})/detections$")
MAX_BYTES = 32768
MAX_AGE = timedelta(seconds=30)
"""Detections further from now than this (either way: a clock off by more) are not shown."""


def is_detections(topic: str) -> bool:
    return topic.endswith("/detections") and _TOPIC.match(topic) is not None


def decode_detections(
    topic: str,
    payload: bytes,
    runtimes: Mapping[str, MunicipalityRuntime],
    now: datetime | None = None,
) -> LiveMessage | None:
    """The live message of a camera's detections, or None when anything about it is wrong or
    it is older than MAX_AGE (the retained message of a worker that died)."""
    m = _TOPIC.match(topic)
    if m is None or len(payload) > MAX_BYTES:
        return None
    rt = runtimes.get(m["m"])
    if rt is None or m["camera"] not in rt.cameras:
        return None
    try:
        doc = json.loads(payload)
        if not isinstance(doc, dict):
            return None
        detections = DetectionsPayload.model_validate({**doc, "id": m["camera"]})
    except (ValueError, RecursionError, ValidationError):
        return None
    if abs((now or datetime.now(UTC)) - detections.ts) > MAX_AGE:
        return None
    return LiveMessage(rt.id, LiveKind.DETECTIONS, detections)
