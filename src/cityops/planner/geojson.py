"""A plan as GeoJSON (WGS84), the form the report, the store and the console read
(docs/PLANNER.md "Command").

One FeatureCollection; its ``plan`` member holds the summary (budget, cost, objective, proven
upper bound and gap, coverage per sector before and after, the coverage curve). Features, told
apart by ``properties.kind``:

- ``camera``: a chosen site (Point) with ``rank``, ``site``, ``site_kind``, ``model``, ``ptz``,
  ``heading_deg`` (null for PTZ), ``fov_deg``, ``range_m``, ``cost``, ``gain`` (per sector),
  ``gain_weighted``;
- ``view``: the area that camera sees (Polygon: its sector less the buildings' shadows), with its
  ``rank``;
- ``existing_camera`` (Point; ``heading_deg``, ``fov_deg``, ``range_m``) and ``existing_view``
  (Polygon): a camera already there and what it sees;
- ``key_object``: a key object (Point on it) with ``category``, ``name``, ``covered`` (share of its
  demand seen after the plan, 0..1) and ``uncovered`` (less than half seen)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from cityops.domain.entities import LonLat
from cityops.planner.osm_inputs import local_crs, transform_xy
from cityops.planner.plan import PlanResult

DECIMALS = 7
UNCOVERED_BELOW = 0.5


def _r(v: float, d: int = 3) -> float:
    return round(float(v), d)


@lru_cache(maxsize=8)
def _inverse(centre: LonLat) -> Transformer:
    return Transformer.from_crs(local_crs(centre), "EPSG:4326", always_xy=True)


def to_lonlat(result: PlanResult, geom: BaseGeometry) -> BaseGeometry:
    inv = _inverse(result.city.projection.center)

    def f(xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return np.round(transform_xy(inv, xy), DECIMALS)

    return shapely.transform(geom, f)


def _feature(geom: BaseGeometry, props: dict[str, Any]) -> dict[str, Any]:
    return {"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props}


def summary(result: PlanResult) -> dict[str, Any]:
    p = result.plan
    return {
        "budget": _r(p.budget, 2),
        "cost": _r(p.cost, 2),
        "cameras": len(p.chosen),
        "objective": _r(p.objective, 4),
        "upper_bound": _r(p.upper_bound, 4),
        "gap": _r(p.gap, 6),
        "method": p.method,
        "baseline": _r(p.baseline, 4),
        "total": _r(p.total, 4),
        "sector_priority": {k: _r(v) for k, v in result.survey.sector_priority.items()},
        "sector_totals": {k: _r(v, 4) for k, v in p.sector_totals.items()},
        "covered_before": {k: _r(v, 4) for k, v in p.covered_before.items()},
        "covered_after": {k: _r(v, 4) for k, v in p.covered_after.items()},
        "curve": [
            {
                "budget": _r(c.budget, 2),
                "objective": _r(c.objective, 4),
                "upper_bound": _r(c.upper_bound, 4),
                "cost": _r(c.cost, 2),
                "cameras": c.cameras,
            }
            for c in result.curve
        ],
        "demand_points": len(result.demand),
        "sites": len(result.sites),
        "candidates": len(result.matrix.candidates),
        "bounds": [_r(v, DECIMALS) for v in result.city.bounds],
        "seconds": _r(p.seconds + result.matrix.seconds, 2),
        "notes": list(p.notes),
    }


def plan_geojson(result: PlanResult) -> dict[str, Any]:
    features: list[dict[str, Any]] = []
    for rank, c in enumerate(result.chosen, start=1):
        point = to_lonlat(result, shapely.Point(c.site.x, c.site.y))
        features.append(
            _feature(
                point,
                {
                    "kind": "camera",
                    "rank": rank,
                    "site": c.site.id,
                    "site_kind": c.site.kind,
                    "model": c.model.id,
                    "ptz": c.model.ptz,
                    "heading_deg": None if c.heading_deg is None else _r(c.heading_deg, 1),
                    "fov_deg": _r(c.model.fov_deg, 1),
                    "range_m": _r(c.model.range_m, 1),
                    "cost": _r(c.cost, 2),
                    "gain": {k: _r(v, 4) for k, v in c.gain.items()},
                    "gain_weighted": _r(c.gain_weighted, 4),
                },
            )
        )
        features.append(_feature(to_lonlat(result, c.view), {"kind": "view", "rank": rank}))
    for existing, view in result.existing:
        point = to_lonlat(result, shapely.Point(existing.x, existing.y))
        props: dict[str, Any] = {
            "kind": "existing_camera",
            "heading_deg": _r(existing.heading_deg, 1),
            "fov_deg": _r(existing.fov_deg, 1),
            "range_m": _r(existing.range_m, 1),
        }
        features.append(_feature(point, props))
        features.append(_feature(to_lonlat(result, view), {"kind": "existing_view"}))
    for oid, share in sorted(result.key_covered.items()):
        obj = result.key_object(oid)
        point = to_lonlat(result, obj.geometry.representative_point())
        features.append(
            _feature(
                point,
                {
                    "kind": "key_object",
                    "id": oid,
                    "category": obj.category,
                    "name": obj.name,
                    "covered": _r(share, 3),
                    "uncovered": share < UNCOVERED_BELOW,
                },
            )
        )
    return {"type": "FeatureCollection", "plan": summary(result), "features": features}


def basemap_geojson(result: PlanResult, limit: int = 20_000) -> dict[str, Any]:
    """The obstacles and the streets, for the report's map (the first ``limit`` of each)."""
    feats = [
        _feature(to_lonlat(result, b.simplify(0.5)), {"kind": "building"})
        for b in result.city.buildings[:limit]
    ]
    feats += [
        _feature(to_lonlat(result, line.simplify(0.5)), {"kind": "street", "class": cls})
        for line, cls in result.city.streets[:limit]
    ]
    return {"type": "FeatureCollection", "features": feats}
