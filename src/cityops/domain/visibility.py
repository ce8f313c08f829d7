"""Which cameras can see a place, from their position, heading, field of view and range."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from cityops.domain.entities import Camera, LonLat
from cityops.domain.geo import LocalProjection, angle_between, bearing_deg


@dataclass(frozen=True, slots=True)
class CameraView:
    camera_id: str
    distance_m: float
    bearing_deg: float
    """Bearing from the camera to the place."""
    off_axis_deg: float
    """How far the place is from the camera's heading (0 = dead centre)."""


def cameras_seeing(
    place: LonLat, cameras: Iterable[Camera], projection: LocalProjection
) -> list[CameraView]:
    """Cameras whose field-of-view sector contains ``place``, nearest first.

    A place within 1 m of a camera counts as seen by it whatever its heading.
    """
    px, py = projection.to_xy(place)
    views: list[CameraView] = []
    for cam in cameras:
        cx, cy = projection.to_xy(cam.position)
        dx, dy = px - cx, py - cy
        dist = math.hypot(dx, dy)
        if dist > cam.range_m:
            continue
        if dist < 1.0:
            views.append(CameraView(cam.id, dist, cam.heading_deg, 0.0))
            continue
        bearing = bearing_deg(dx, dy)
        off = angle_between(bearing, cam.heading_deg)
        if off <= cam.fov_deg / 2.0:
            views.append(CameraView(cam.id, dist, bearing, off))
    views.sort(key=lambda v: (v.distance_m, v.camera_id))
    return views
