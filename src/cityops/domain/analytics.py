"""What a camera's video analytics is configured to watch for, and what it reports.

Pure types: the YAML configuration (config/) builds a ``CameraAnalytics`` per camera, the video
worker (video/) runs it on frames and publishes ``AnalyticsEventKind`` events and line counts over
MQTT, and the rule engine turns those events into incidents like any other camera event.

Image geometry is in fractions of the image (x right, y down, both 0..1), so a zone or a line
survives a change of stream resolution.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum

from cityops.domain.entities import CameraHealth, Polygon

ImagePoint = tuple[float, float]
"""(x, y) as fractions of the image width and height."""


class ObjectClass(StrEnum):
    PERSON = "person"
    VEHICLE = "vehicle"
    BICYCLE = "bicycle"
    OTHER = "other"


class ZoneKind(StrEnum):
    PRESENCE = "presence"
    """Report objects of the zone's classes entering it (while its schedule is active)."""
    INTRUSION = "intrusion"
    """Like presence, but any entry is a violation (a school yard at night)."""


class AnalyticsEventKind(StrEnum):
    """The event kinds the video worker publishes (rules match them by ``event_kinds``)."""

    MOTION = "motion"
    PERSON = "person"
    VEHICLE = "vehicle"
    BICYCLE = "bicycle"
    INTRUSION = "intrusion"
    LOITERING = "loitering"
    CROWDING = "crowding"
    STOPPED_VEHICLE = "stopped_vehicle"
    WRONG_WAY = "wrong_way"
    LINE_CROSSING = "line_crossing"
    CAMERA_OFFLINE = "camera_offline"
    CAMERA_FROZEN = "camera_frozen"
    CAMERA_COVERED = "camera_covered"
    CAMERA_DEFOCUSED = "camera_defocused"
    CAMERA_MOVED = "camera_moved"
    CAMERA_RESTORED = "camera_restored"
    """The camera's picture is healthy again after one of the five above."""


CAMERA_HEALTH: Mapping[str, CameraHealth] = {
    AnalyticsEventKind.CAMERA_OFFLINE: CameraHealth.OFFLINE,
    AnalyticsEventKind.CAMERA_FROZEN: CameraHealth.STALE,
    AnalyticsEventKind.CAMERA_COVERED: CameraHealth.TAMPERED,
    AnalyticsEventKind.CAMERA_DEFOCUSED: CameraHealth.TAMPERED,
    AnalyticsEventKind.CAMERA_MOVED: CameraHealth.TAMPERED,
    AnalyticsEventKind.CAMERA_RESTORED: CameraHealth.ONLINE,
}
"""The camera health (map, camera wall) each of the video worker's health events stands for."""


class LineDirection(StrEnum):
    FORWARD = "forward"
    """Crossing from the left of the line (seen from ``a`` towards ``b``) to its right."""
    BACKWARD = "backward"


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A daily window in the municipality's local time; ``start > end`` crosses midnight."""

    start: time
    end: time

    def contains(self, local: time) -> bool:
        if self.start <= self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a zone is watched; no windows means always."""

    windows: tuple[TimeWindow, ...] = ()

    def active(self, local: time) -> bool:
        return not self.windows or any(w.contains(local) for w in self.windows)


@dataclass(frozen=True, slots=True)
class AnalyticsZone:
    id: str
    polygon: Polygon
    kind: ZoneKind = ZoneKind.PRESENCE
    classes: frozenset[ObjectClass] = frozenset({ObjectClass.PERSON, ObjectClass.VEHICLE})
    schedule: Schedule = field(default_factory=Schedule)
    loiter_s: float | None = None
    """A person staying longer than this in the zone is loitering."""
    crowd_max: int | None = None
    """More people than this in the zone at once is crowding."""
    stopped_s: float | None = None
    """A vehicle not moving for longer than this in the zone is a stopped vehicle."""
    direction_deg: float | None = None
    """Expected direction of travel in the image (0 = right, 90 = down); moving against it
    (more than 90 degrees off) is wrong-way."""


@dataclass(frozen=True, slots=True)
class CountLine:
    """A counting line from ``a`` to ``b``; crossings are counted per class and direction and
    published as readings of the configured counter sensors (one reading per interval)."""

    id: str
    a: ImagePoint
    b: ImagePoint
    classes: frozenset[ObjectClass] = frozenset({ObjectClass.VEHICLE})
    sensors: Mapping[LineDirection, str] = field(default_factory=dict)
    """Counter sensor id per direction (sensors of the municipality, unit e.g. vehicles/min)."""
    interval_s: float = 60.0


class DetectorKind(StrEnum):
    MOTION_BLOB = "motion_blob"
    """Moving blobs classified by size and shape: no model, cheapest."""
    HOG = "hog"
    """OpenCV's built-in HOG people detector, on motion regions."""
    ONNX = "onnx"
    """A YOLO-/YOLOX-/NanoDet-family ONNX model file the operator provides."""


@dataclass(frozen=True, slots=True)
class BlobShape:
    """How the motion-blob detector tells a person from a vehicle by a blob's box (its height
    over width in pixels, its area as a fraction of the image); shapes in between are bicycles.
    They depend on the camera's view: how big a car or a person looks in its picture."""

    person_min_aspect: float = 1.3
    """A person's box is at least this many times taller than wide ..."""
    person_max_area: float = 0.06
    """... and covers at most this fraction of the image."""
    vehicle_max_aspect: float = 1.1
    """A vehicle's box is at most this tall for its width ..."""
    vehicle_min_area: float = 0.002
    """... and covers at least this fraction of the image."""
    min_area: float = 0.0004
    """Blobs smaller than this fraction of the image are noise."""


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    kind: DetectorKind = DetectorKind.MOTION_BLOB
    model_path: str | None = None
    """For ONNX: the model file (see docs/VIDEO.md for the accepted export formats)."""
    min_confidence: float = 0.5
    classes: frozenset[ObjectClass] = frozenset(
        {ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE}
    )
    """What the camera can see (a motorway camera: vehicles only): detections of other classes
    are dropped, and the motion-blob classifier takes every blob for the only class there is."""
    blob: BlobShape = field(default_factory=BlobShape)
    """For the motion-blob detector: the shapes of its classes."""


@dataclass(frozen=True, slots=True)
class TamperSpec:
    enabled: bool = True
    hold_s: float = 10.0
    """A condition must last this long before it is reported (no flicker on a passing truck)."""


@dataclass(frozen=True, slots=True)
class CameraAnalytics:
    """What the video worker does with one camera's stream."""

    fps: float = 5.0
    """Frames analysed per second (the stream may run faster; extra frames are skipped)."""
    detector: DetectorSpec = field(default_factory=DetectorSpec)
    zones: tuple[AnalyticsZone, ...] = ()
    lines: tuple[CountLine, ...] = ()
    tamper: TamperSpec = field(default_factory=TamperSpec)
    blur_people: bool = False
    """Blur detected people in every stored or shown image, in addition to the fixed masks."""
    blur_faces: bool = False
