"""Metric geometry around a municipality: WGS84 at the edges, metres inside."""

from __future__ import annotations

import math
from functools import lru_cache

from pyproj import Transformer

from cityops.domain.entities import LonLat


class LocalProjection:
    """A transverse Mercator projection centred on a municipality (metres, scale error < 0.1%
    within 30 km of the centre), used for distances, bearings and fields of view."""

    def __init__(self, center: LonLat) -> None:
        self.center = center
        crs = (
            f"+proj=tmerc +lat_0={center.lat} +lon_0={center.lon} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs"
        )
        self._fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        self._inv = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def to_xy(self, p: LonLat) -> tuple[float, float]:
        x, y = self._fwd.transform(p.lon, p.lat)
        return float(x), float(y)

    def to_lonlat(self, x: float, y: float) -> LonLat:
        lon, lat = self._inv.transform(x, y)
        return LonLat(float(lon), float(lat))

    def distance_m(self, a: LonLat, b: LonLat) -> float:
        ax, ay = self.to_xy(a)
        bx, by = self.to_xy(b)
        return math.hypot(bx - ax, by - ay)


@lru_cache(maxsize=64)
def projection_for(center: LonLat) -> LocalProjection:
    """One shared projection per centre (building a Transformer costs milliseconds)."""
    return LocalProjection(center)


def bearing_deg(dx: float, dy: float) -> float:
    """Compass bearing (0 = north, 90 = east) of the vector (dx east, dy north)."""
    return math.degrees(math.atan2(dx, dy)) % 360.0


def angle_between(a_deg: float, b_deg: float) -> float:
    """Smallest absolute difference between two compass bearings, 0..180."""
    d = abs(a_deg - b_deg) % 360.0
    return 360.0 - d if d > 180.0 else d
