"""Decoding MQTT/HTTP payloads into readings and events, with a reason for every rejection."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from cityops.domain.entities import Camera, LonLat, Sensor
from cityops.domain.observations import Event, EventSource, Reading, same_unit

MAX_FUTURE = timedelta(minutes=5)
MAX_AGE = timedelta(days=400)
"""Readings older than this (by their own timestamp, against the time of receipt) are refused:
a year of history replayed up to now still fits, a device whose clock fell back to 1970 or 1900
does not. ``CITYOPS_READING_MAX_AGE_S`` changes it (0: no limit)."""
EPOCH_MAX = 32503680000
"""Epoch seconds of 3000-01-01: later numbers are not timestamps."""
_ID = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}"
_TOPIC = re.compile(
    rf"^cityops/(?P<m>{_ID})/(?:"
    rf"sensors/(?P<sensor>{_ID})/readings|"
    rf"(?P<gateway>readings)|"
    rf"cameras/(?P<camera>{_ID})/events|"
    rf"events/(?P<external>{_ID}))$"
)


class Reason(StrEnum):
    """Why input was rejected; the codes are what the metrics count."""

    TOPIC = "bad_topic"
    TOPIC_ENCODING = "topic_not_utf8"
    TOO_LARGE = "too_large"
    JSON = "malformed_json"
    SHAPE = "bad_shape"
    MUNICIPALITY = "unknown_municipality"
    SENSOR = "unknown_sensor"
    CAMERA = "unknown_camera"
    DEVICE = "unknown_device"
    """A person's device (``cityops/<m>/persons/<device>/...``) registered to nobody."""
    UNIT = "wrong_unit"
    RANGE = "out_of_range"
    TIMESTAMP = "bad_timestamp"
    TOO_OLD = "too_old"
    """A timestamp older than the reading horizon (``CITYOPS_READING_MAX_AGE_S``)."""
    NUMBER = "not_finite"
    """A number JSON can spell but a float cannot hold (1e400, a 400-digit integer, NaN)."""
    BATCH = "batch_too_large"
    INTERNAL = "internal_error"
    """Valid input the database refused three times; kept so nothing is lost silently."""


class TopicKind(StrEnum):
    SENSOR = "sensor"
    GATEWAY = "gateway"
    CAMERA = "camera"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class Topic:
    municipality: str
    kind: TopicKind
    source_id: str | None


TOPIC_MAX = 200
"""Longer than any topic ``_TOPIC`` matches (two ids of at most 64 characters and the rest)."""


def parse_topic(topic: str) -> Topic | None:
    """The CityOps topic ``topic`` is, or None. A device sends on the same topic again and
    again: the answers of the last 8,192 topics are kept (``Topic`` is immutable; a topic too
    long to be one is refused without a look, so the kept ones stay small)."""
    return None if len(topic) > TOPIC_MAX else _parse_topic(topic)


@functools.lru_cache(maxsize=8192)
def _parse_topic(topic: str) -> Topic | None:
    m = _TOPIC.match(topic)
    if m is None:
        return None
    if m["sensor"]:
        return Topic(m["m"], TopicKind.SENSOR, m["sensor"])
    if m["gateway"]:
        return Topic(m["m"], TopicKind.GATEWAY, None)
    if m["camera"]:
        return Topic(m["m"], TopicKind.CAMERA, m["camera"])
    return Topic(m["m"], TopicKind.EXTERNAL, m["external"])


@dataclass(frozen=True, slots=True)
class Rejection:
    reason: Reason
    detail: str
    index: int | None = None
    """Position of the item in a batch, None for the whole message."""


@dataclass(slots=True)
class Decoded:
    readings: list[Reading] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


class Rejected(Exception):  # noqa: N818 - an outcome, not a failure of the program
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far from the time of receipt a timestamp may lie."""

    max_age: timedelta | None = MAX_AGE
    """None: any age (back to 1970) is accepted."""
    max_future: timedelta = MAX_FUTURE


DEFAULT_WINDOW = TimeWindow()


def parse_ts(raw: Any, received_at: datetime, window: TimeWindow = DEFAULT_WINDOW) -> datetime:
    """A timestamp as ISO 8601 with zone or epoch seconds; missing means the receive time."""
    if raw is None:
        return received_at
    if isinstance(raw, bool):
        raise Rejected(Reason.TIMESTAMP, "timestamp must be ISO 8601 text or epoch seconds")
    if isinstance(raw, int | float):
        # ints are compared as ints (a 400-digit one cannot become a float)
        if (isinstance(raw, float) and not math.isfinite(raw)) or not 0 <= raw < EPOCH_MAX:
            raise Rejected(Reason.TIMESTAMP, f"epoch timestamp {show(raw)} out of range")
        ts = datetime.fromtimestamp(raw, UTC)
    elif isinstance(raw, str):
        try:
            ts = datetime.fromisoformat(raw)
        except ValueError:
            raise Rejected(Reason.TIMESTAMP, f"timestamp {show(raw)} is not ISO 8601") from None
        if ts.tzinfo is None:
            raise Rejected(Reason.TIMESTAMP, f"timestamp {show(raw)} has no time zone")
        try:
            ts = ts.astimezone(UTC)
        except OverflowError:  # year 1 at +14:00, year 9999 at -14:00
            raise Rejected(Reason.TIMESTAMP, f"timestamp {show(raw)} is out of range") from None
    else:
        raise Rejected(Reason.TIMESTAMP, "timestamp must be ISO 8601 text or epoch seconds")
    if ts - received_at > window.max_future:
        raise Rejected(Reason.TIMESTAMP, f"timestamp {ts.isoformat()} is in the future")
    if window.max_age is not None and received_at - ts > window.max_age:
        raise Rejected(
            Reason.TOO_OLD,
            f"timestamp {ts.isoformat()} is older than {window.max_age.total_seconds():.0f} s",
        )
    return ts


def show(raw: Any) -> str:
    """A short, safe rendering of hostile input for a rejection's detail."""
    if isinstance(raw, str):
        return repr(raw[:64])
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return repr(raw) if isinstance(raw, float) or abs(raw) < 10**30 else "a huge integer"
    return type(raw).__name__


def as_number(raw: Any, name: str = "value") -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise Rejected(Reason.SHAPE, f"{name} must be a number, got {type(raw).__name__}")
    try:
        value = float(raw)
    except OverflowError:
        raise Rejected(Reason.NUMBER, f"{name} {show(raw)} is too large for a number") from None
    if not math.isfinite(value):
        raise Rejected(Reason.NUMBER, f"{name} {value!r} is not a finite number")
    return value


def _items(doc: Any, key: str, max_batch: int) -> Iterator[tuple[int | None, Any]]:
    """The items of a message: one object, a list, or ``{key: [...]}``."""
    if isinstance(doc, Mapping) and key in doc:
        doc = doc[key]
        if not isinstance(doc, list):
            raise Rejected(Reason.SHAPE, f"{key!r} must be a list")
    if isinstance(doc, list):
        if len(doc) > max_batch:
            raise Rejected(Reason.BATCH, f"{len(doc)} items in one message (limit {max_batch})")
        yield from enumerate(doc)
    elif isinstance(doc, Mapping):
        yield None, doc
    else:
        raise Rejected(Reason.SHAPE, f"expected a JSON object or list, got {type(doc).__name__}")


def decode_json(payload: bytes, max_bytes: int) -> Any:
    if len(payload) > max_bytes:
        raise Rejected(Reason.TOO_LARGE, f"payload of {len(payload)} bytes (limit {max_bytes})")
    try:
        return json.loads(payload)
    except (ValueError, RecursionError) as err:
        raise Rejected(Reason.JSON, f"not valid JSON: {str(err)[:200]}") from None


def decode_readings(
    doc: Any,
    topic: Topic,
    sensors: Mapping[str, Sensor],
    received_at: datetime,
    max_batch: int,
    window: TimeWindow = DEFAULT_WINDOW,
) -> Decoded:
    out = Decoded()
    for index, item in _items(doc, "readings", max_batch):
        try:
            if not isinstance(item, Mapping):
                raise Rejected(Reason.SHAPE, "a reading must be a JSON object")
            sensor_id = topic.source_id or item.get("sensor")
            if not isinstance(sensor_id, str):
                raise Rejected(Reason.SHAPE, "reading names no sensor")
            sensor = sensors.get(sensor_id)
            if sensor is None:
                raise Rejected(Reason.SENSOR, f"unknown sensor {sensor_id[:64]!r}")
            if "value" not in item:
                raise Rejected(Reason.SHAPE, "reading has no 'value'")
            value = as_number(item["value"])
            unit = item.get("unit")
            if unit is not None and (not isinstance(unit, str) or not same_unit(unit, sensor.unit)):
                raise Rejected(
                    Reason.UNIT, f"unit {show(unit)} is not the sensor's unit {sensor.unit!r}"
                )
            problem = sensor.check_value(value)
            if problem:
                raise Rejected(Reason.RANGE, f"sensor {sensor.id}: {problem}")
            ts = parse_ts(item.get("ts"), received_at, window)
            out.readings.append(Reading(topic.municipality, sensor.id, ts, value))
        except Rejected as rej:
            out.rejections.append(Rejection(rej.reason, rej.detail, index))
    return out


_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")


def as_text(raw: Any, name: str) -> str | None:
    """An optional short text field; control characters (NUL among them, which PostgreSQL
    cannot store) and lone surrogates (no database driver can encode them) are refused here
    rather than breaking a whole batch's transaction."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise Rejected(Reason.SHAPE, f"{name!r} must be text")
    if _CONTROL.search(raw):
        raise Rejected(Reason.SHAPE, f"{name!r} contains control characters or lone surrogates")
    return raw


def _str_map(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise Rejected(Reason.SHAPE, "'attributes' must be an object")
    try:
        return {str(k)[:64]: str(v)[:500] for k, v in list(raw.items())[:50]}
    except (ValueError, RecursionError):  # a value too large or too deep to write as text
        raise Rejected(Reason.SHAPE, "'attributes' holds a value that cannot be text") from None


def _position(item: Mapping[str, Any], default: LonLat | None) -> LonLat | None:
    if "lon" not in item and "lat" not in item:
        return default
    try:
        return LonLat(as_number(item.get("lon"), "lon"), as_number(item.get("lat"), "lat"))
    except ValueError as err:
        raise Rejected(Reason.SHAPE, str(err)) from None


def decode_events(
    doc: Any,
    topic: Topic,
    cameras: Mapping[str, Camera],
    received_at: datetime,
    max_batch: int,
    window: TimeWindow = DEFAULT_WINDOW,
) -> Decoded:
    out = Decoded()
    camera = None
    if topic.kind is TopicKind.CAMERA:
        camera = cameras.get(topic.source_id or "")
        if camera is None:
            out.rejections.append(Rejection(Reason.CAMERA, f"unknown camera {topic.source_id!r}"))
            return out
    for index, item in _items(doc, "events", max_batch):
        try:
            if not isinstance(item, Mapping):
                raise Rejected(Reason.SHAPE, "an event must be a JSON object")
            kind = item.get("kind")
            if not isinstance(kind, str) or not re.fullmatch(r"[a-z][a-z0-9_]{0,63}", kind):
                raise Rejected(Reason.SHAPE, "event 'kind' must be a short lower-case word")
            ts = parse_ts(item.get("ts"), received_at, window)
            zone = as_text(item.get("zone"), "zone")
            conf = item.get("confidence")
            confidence = None if conf is None else as_number(conf, "confidence")
            if confidence is not None and not 0.0 <= confidence <= 1.0:
                raise Rejected(Reason.RANGE, f"confidence {confidence} outside 0..1")
            position = _position(item, camera.position if camera else None)
            if camera is None and position is None:
                raise Rejected(Reason.SHAPE, "an outside event needs 'lon' and 'lat'")
            source_id = camera.id if camera else str(topic.source_id)
            raw_id = as_text(item.get("id"), "id")
            event_id = raw_id[:200] if raw_id else f"{source_id}:{kind}:{ts.isoformat()}"
            out.events.append(
                Event(
                    municipality=topic.municipality,
                    event_id=event_id,
                    source=EventSource.CAMERA if camera else EventSource.EXTERNAL,
                    source_id=source_id,
                    kind=kind,
                    ts=ts,
                    position=position,
                    zone=zone[:64] if zone else None,
                    confidence=confidence,
                    attributes=_str_map(item.get("attributes")),
                )
            )
        except Rejected as rej:
            out.rejections.append(Rejection(rej.reason, rej.detail, index))
    return out
