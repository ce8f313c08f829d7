"""Counting lines: crossings of tracked objects by class and direction, with hysteresis, and
their counts per interval.

A track's side of the line is the sign of its foot point's distance from a->b; it changes only
when the foot point is more than ``hysteresis`` (image heights) beyond the line, so an object
standing on the line, or a box that jitters across it, is not counted again and again. A side
change counts when the step between the two last points beyond the band passes between ``a``
and ``b``: forward from left to right (seen from ``a`` towards ``b``), backward the other way.

Counts are kept per interval of ``interval_s`` aligned to the epoch (60 s intervals end on whole
minutes); an interval is reported once its end has passed, zeros included, with the counter
sensor configured for its direction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from cityops.domain.analytics import CountLine, ImagePoint, LineDirection, ObjectClass
from cityops.video.analytics.geometry import crossing_position, signed_distance
from cityops.video.analytics.types import LineCount, TrackedObject


@dataclass(frozen=True, slots=True)
class Crossing:
    line_id: str
    track: TrackedObject
    direction: LineDirection
    ts: datetime


@dataclass(slots=True)
class _Side:
    side: int
    point: ImagePoint
    seen: float


class LineCounter:
    def __init__(self, line: CountLine, *, hysteresis: float = 0.03, forget_s: float = 5.0) -> None:
        self.line = line
        self.hysteresis = hysteresis
        self.forget_s = forget_s
        self._sides: dict[int, _Side] = {}
        self._counts: dict[tuple[LineDirection, ObjectClass], int] = {}
        self._interval: int | None = None
        self._observed_from = 0.0

    def update(
        self, objects: Sequence[TrackedObject], ts: datetime, aspect: float = 1.0
    ) -> tuple[list[Crossing], list[LineCount]]:
        """This frame's crossings, and the counts of any interval that ended before ``ts``."""
        t = ts.timestamp()
        closed = self._roll(t)
        a, b = self.line.a, self.line.b
        crossings = []
        for obj in objects:
            foot = obj.box.foot
            s = signed_distance(a, b, foot, aspect)
            if abs(s) <= self.hysteresis:
                continue
            side = 1 if s > 0 else -1
            prev = self._sides.get(obj.track_id)
            self._sides[obj.track_id] = _Side(side, foot, t)
            if prev is None or prev.side == side or obj.cls not in self.line.classes:
                continue
            u = crossing_position(a, b, prev.point, foot, aspect)
            if u is None or not 0.0 <= u <= 1.0:
                continue
            direction = LineDirection.FORWARD if side > 0 else LineDirection.BACKWARD
            key = (direction, obj.cls)
            self._counts[key] = self._counts.get(key, 0) + 1
            crossings.append(Crossing(self.line.id, obj, direction, ts))
        self._sides = {k: v for k, v in self._sides.items() if t - v.seen <= self.forget_s}
        return crossings, closed

    def _roll(self, t: float) -> list[LineCount]:
        interval = self.line.interval_s
        k = math.floor(t / interval)
        if self._interval is None:
            self._interval, self._observed_from = k, t
            return []
        if k <= self._interval:
            return []
        start, end = (
            max(self._interval * interval, self._observed_from),
            (self._interval + 1) * interval,
        )
        out = [
            LineCount(
                self.line.id,
                direction,
                cls,
                self._counts.get((direction, cls), 0),
                datetime.fromtimestamp(start, UTC),
                datetime.fromtimestamp(end, UTC),
                self.line.sensors.get(direction),
            )
            for direction in LineDirection
            for cls in sorted(self.line.classes)
        ]
        self._counts.clear()
        # after a gap of more than one interval the new one is observed only from now
        self._observed_from = k * interval if k == self._interval + 1 else t
        self._interval = k
        return out

    def totals(self) -> dict[tuple[LineDirection, ObjectClass], int]:
        """Crossings counted so far in the open interval."""
        return dict(self._counts)
