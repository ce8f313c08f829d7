"""What the analytics pipeline hands the video worker for each analysed frame."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cityops.domain.analytics import AnalyticsEventKind, LineDirection, ObjectClass


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in fractions of the image (x right, y down, 0..1)."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    @property
    def foot(self) -> tuple[float, float]:
        """The bottom centre: where an object stands, used for zone membership."""
        return ((self.x1 + self.x2) / 2, self.y2)


@dataclass(frozen=True, slots=True)
class Detection:
    box: Box
    cls: ObjectClass
    score: float


@dataclass(frozen=True, slots=True)
class TrackedObject:
    track_id: int
    cls: ObjectClass
    box: Box
    score: float


@dataclass(frozen=True, slots=True)
class AnalyticsEvent:
    kind: AnalyticsEventKind
    ts: datetime
    zone: str | None = None
    track_id: int | None = None
    cls: ObjectClass | None = None
    confidence: float | None = None
    boxes: tuple[Box, ...] = ()
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineCount:
    """Crossings of one line, class and direction in one closed interval."""

    line_id: str
    direction: LineDirection
    cls: ObjectClass
    count: int
    start: datetime
    end: datetime
    sensor_id: str | None = None


@dataclass(frozen=True, slots=True)
class FrameResult:
    events: tuple[AnalyticsEvent, ...] = ()
    counts: tuple[LineCount, ...] = ()
    objects: tuple[TrackedObject, ...] = ()
    motion: tuple[Box, ...] = ()
