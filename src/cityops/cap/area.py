"""Does an alert's area touch a municipality? By polygon, circle or geocode (CAP 1.2 §3.2.4).

A municipality's jurisdiction is its boundary (WGS 84 ring) and the region codes that stand for
it in alerts, e.g. MeteoAlarm's ``EMMA_ID`` for the Bulgarian warning region it lies in."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from shapely.geometry import Point, Polygon

from cityops.cap.model import Alert, Area, Circle
from cityops.domain.entities import LonLat
from cityops.domain.geo import projection_for

EARTH_RADIUS_KM = 6371.0088
LOCAL_KM = 200.0
"""Within this distance of the municipality a circle is measured in its local projection."""


@dataclass(frozen=True)
class Jurisdiction:
    municipality: str
    boundary: tuple[LonLat, ...]  # a closed or open ring, longitude first
    geocodes: Mapping[str, frozenset[str]] = field(default_factory=dict)  # valueName -> values

    def __post_init__(self) -> None:
        if len(self.boundary) < 3:
            raise ValueError("a boundary needs at least 3 points")

    @property
    def polygon(self) -> Polygon:
        return Polygon([(p.lon, p.lat) for p in self.boundary])

    @property
    def center(self) -> LonLat:
        c = self.polygon.centroid
        return LonLat(float(c.x), float(c.y))


def great_circle_km(a: LonLat, b: LonLat) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _circle_touches(circle: Circle, where: Jurisdiction) -> bool:
    lat, lon = circle.center
    center = LonLat(lon, lat)
    boundary = where.polygon
    reach_km = max(great_circle_km(where.center, p) for p in where.boundary)
    away_km = great_circle_km(center, where.center)
    if away_km > circle.radius_km + reach_km:
        return False
    if away_km > LOCAL_KM:
        # far away: no projection across the globe; the nearest corner decides (an error of
        # at most the municipality's size, against a radius of hundreds of kilometres)
        return min(great_circle_km(center, p) for p in where.boundary) <= circle.radius_km
    proj = projection_for(where.center)
    local = Polygon([proj.to_xy(p) for p in where.boundary])
    x, y = proj.to_xy(center)
    return bool(local.distance(Point(x, y)) <= circle.radius_km * 1000.0) or boundary.contains(
        Point(lon, lat)
    )


def area_touches(area: Area, where: Jurisdiction) -> bool:
    """True when any polygon or circle of ``area`` meets the boundary, or any of its geocodes
    is one of the municipality's."""
    for name, value in area.geocodes:
        if value in where.geocodes.get(name, frozenset()):
            return True
    boundary = where.polygon
    for ring in area.polygons:
        shape = Polygon([(lon, lat) for lat, lon in ring])
        if not shape.is_valid:
            shape = shape.buffer(0)  # a self-crossing ring: its covered area
        if shape.intersects(boundary):
            return True
    return any(_circle_touches(c, where) for c in area.circles)


def touching_areas(alert: Alert, where: Jurisdiction) -> list[Area]:
    return [a for info in alert.infos for a in info.areas if area_touches(a, where)]


def position_in(areas: list[Area], where: Jurisdiction) -> LonLat:
    """Where to put the warning on the map: the middle of the first drawn area inside the
    boundary, else the municipality's centre (a geocode has no shape here)."""
    boundary = where.polygon
    for area in areas:
        for ring in area.polygons:
            inside = Polygon([(lon, lat) for lat, lon in ring]).buffer(0).intersection(boundary)
            if not inside.is_empty:
                p = inside.representative_point()
                return LonLat(float(p.x), float(p.y))
        for circle in area.circles:
            lat, lon = circle.center
            if boundary.contains(Point(lon, lat)):
                return LonLat(lon, lat)
    return where.center
