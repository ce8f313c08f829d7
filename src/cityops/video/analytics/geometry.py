"""Image geometry for zones and lines, in image fractions; ``aspect`` (width / height) makes
distances and angles those of the picture rather than of the unit square."""

from __future__ import annotations

import math

import cv2
import numpy as np

from cityops.domain.analytics import ImagePoint
from cityops.domain.entities import Polygon


class ZoneShape:
    """A zone polygon ready for fast point tests (OpenCV's ``pointPolygonTest``)."""

    def __init__(self, polygon: Polygon) -> None:
        self._contour = np.array(polygon, dtype=np.float32).reshape(-1, 1, 2)

    def contains(self, point: ImagePoint) -> bool:
        return cv2.pointPolygonTest(self._contour, (float(point[0]), float(point[1])), False) >= 0


def signed_distance(a: ImagePoint, b: ImagePoint, p: ImagePoint, aspect: float = 1.0) -> float:
    """Distance of ``p`` from the line a->b in image heights: negative on its left (seen from
    ``a`` towards ``b``, y down), positive on its right."""
    ax, bx, px = a[0] * aspect, b[0] * aspect, p[0] * aspect
    dx, dy = bx - ax, b[1] - a[1]
    length = math.hypot(dx, dy)
    if length == 0:
        return 0.0
    return (dx * (p[1] - a[1]) - dy * (px - ax)) / length


def crossing_position(
    a: ImagePoint, b: ImagePoint, p0: ImagePoint, p1: ImagePoint, aspect: float = 1.0
) -> float | None:
    """Where the step p0->p1 meets the line through a, b, as a fraction of a->b (0 at ``a``,
    1 at ``b``); None when the step does not change sides."""
    s0, s1 = signed_distance(a, b, p0, aspect), signed_distance(a, b, p1, aspect)
    if s0 == s1 or (s0 < 0) == (s1 < 0):
        return None
    lam = s0 / (s0 - s1)
    qx = (p0[0] + lam * (p1[0] - p0[0])) * aspect
    qy = p0[1] + lam * (p1[1] - p0[1])
    ax, bx = a[0] * aspect, b[0] * aspect
    dx, dy = bx - ax, b[1] - a[1]
    return ((qx - ax) * dx + (qy - a[1]) * dy) / (dx * dx + dy * dy)


def heading_deg(p0: ImagePoint, p1: ImagePoint, aspect: float = 1.0) -> float:
    """Direction of travel from p0 to p1 in degrees: 0 = right, 90 = down."""
    return math.degrees(math.atan2(p1[1] - p0[1], (p1[0] - p0[0]) * aspect)) % 360.0


def angle_between(a_deg: float, b_deg: float) -> float:
    """The smaller angle between two directions, 0..180 degrees."""
    d = abs(a_deg - b_deg) % 360.0
    return 360.0 - d if d > 180.0 else d


def distance(p0: ImagePoint, p1: ImagePoint, aspect: float = 1.0) -> float:
    """Distance in image heights."""
    return math.hypot((p1[0] - p0[0]) * aspect, p1[1] - p0[1])
