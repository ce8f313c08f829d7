"""The base map a share's recipient sees: the municipality's offline base map (store/basemap_repo)
cut down to the features near the share's place, so a link gives the map of the scene, not the
whole municipality's (docs/AGENCIES.md "Shares")."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection

from cityops.domain.shares import Share
from cityops.store.basemap_repo import basemap_json

MARGIN_M = 500.0
"""How far beyond the share's radius the map reaches."""
_M_PER_DEG_LAT = 111_320.0

Box = tuple[float, float, float, float]


def box_around(share: Share, margin_m: float = MARGIN_M) -> Box:
    """(min lon, min lat, max lon, max lat) of the square ``radius + margin`` around the place."""
    reach = share.radius_m + margin_m
    dlat = reach / _M_PER_DEG_LAT
    dlon = reach / (_M_PER_DEG_LAT * max(math.cos(math.radians(share.place.lat)), 0.01))
    p = share.place
    return (p.lon - dlon, p.lat - dlat, p.lon + dlon, p.lat + dlat)


def _positions(coords: Any) -> Iterator[tuple[float, float]]:
    if (
        isinstance(coords, list)
        and len(coords) >= 2
        and all(isinstance(v, int | float) for v in coords[:2])
    ):
        yield float(coords[0]), float(coords[1])
    elif isinstance(coords, list):
        for part in coords:
            yield from _positions(part)


def _touches(feature: Any, box: Box) -> bool:
    geometry = feature.get("geometry") if isinstance(feature, dict) else None
    if not isinstance(geometry, dict):
        return False
    points = list(_positions(geometry.get("coordinates")))
    if not points:
        return False
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return (
        min(lons) <= box[2] and max(lons) >= box[0] and min(lats) <= box[3] and max(lats) >= box[1]
    )


def basemap_near(conn: Connection, share: Share) -> dict[str, Any]:
    """The ``/basemap`` payload with only the features whose extent meets the share's box."""
    whole = json.loads(basemap_json(conn, share.municipality))
    box = box_around(share)
    layers = {
        name: {
            "type": "FeatureCollection",
            "features": [f for f in fc.get("features", []) if _touches(f, box)],
        }
        for name, fc in (whole.get("layers") or {}).items()
    }
    return {"bounds": list(box), "layers": layers}
