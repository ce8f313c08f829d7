"""Candidate mounting sites (docs/PLANNER.md "Inputs"): street junctions, points along every
street every ``every_m`` metres, building corners (1.5 m out along the corner's bisector),
mapped poles, street lamps and signals, and the sites a user lists. None inside a building, and
every generated one within 20 m of a street or in a public area (not in a back yard); sites
closer than ``min_gap_m`` to one already taken are merged (the first kind in the order above
wins); sites with no demand point within the longest camera range are dropped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from cityops.planner.catalogs import UserSite
from cityops.planner.demand import outside_buildings
from cityops.planner.model import DemandPoint, Site
from cityops.planner.osm_inputs import CityMap
from cityops.planner.yamldoc import PlannerInputError

EVERY_M = 40.0
CORNER_OUT_M = 1.5
MIN_GAP_M = 12.0
STREET_SIDE_M = 20.0
FloatArray = npt.NDArray[np.float64]


def _along_streets(city: CityMap, every: float) -> FloatArray:
    chunks = [np.zeros((0, 2))]
    for line, cls in city.streets:
        if line.length < every or cls == "path":
            continue
        dist = np.arange(every / 2, line.length, every)
        chunks.append(shapely.get_coordinates(shapely.line_interpolate_point(line, dist)))
    return np.vstack(chunks)


def _corners(city: CityMap) -> FloatArray:
    """Convex corners of each building (simplified to 1 m), pushed out along the bisector."""
    out = []
    for building in city.buildings:
        ring = shapely.get_coordinates(building.simplify(1.0).exterior)[:-1]
        if len(ring) < 3:
            continue
        prev, nxt = np.roll(ring, 1, axis=0), np.roll(ring, -1, axis=0)
        a, b = prev - ring, nxt - ring
        a /= np.linalg.norm(a, axis=1, keepdims=True) + 1e-12
        b /= np.linalg.norm(b, axis=1, keepdims=True) + 1e-12
        bisector = -(a + b)
        norm = np.linalg.norm(bisector, axis=1, keepdims=True)
        ok = norm[:, 0] > 0.2  # not a straight run
        out.append(ring[ok] + CORNER_OUT_M * bisector[ok] / norm[ok])
    return np.vstack(out) if out else np.zeros((0, 2))


def on_public_space(city: CityMap, pts: FloatArray) -> npt.NDArray[np.bool_]:
    """Within STREET_SIDE_M of a street's centre line or in a public area (squares, parks...):
    a building corner in a back yard is not a place the town can mount a camera."""
    found = np.zeros(len(pts), dtype=bool)
    if len(pts) == 0:
        return found
    points = shapely.points(pts)
    lines = shapely.STRtree([line for line, _ in city.streets])
    found[np.unique(lines.query(points, predicate="dwithin", distance=STREET_SIDE_M)[0])] = True
    if city.public_areas:
        areas = shapely.STRtree(list(city.public_areas))
        found[np.unique(areas.query(points, predicate="intersects")[0])] = True
    return found


def _user_sites(city: CityMap, listed: Sequence[UserSite]) -> FloatArray:
    from cityops.domain.entities import LonLat

    xy = np.array([city.projection.to_xy(LonLat(s.lon, s.lat)) for s in listed]).reshape(-1, 2)
    inside = ~outside_buildings(xy, city.buildings)
    for site, bad in zip(listed, inside, strict=True):
        if bad:
            raise PlannerInputError(f"{site.line}: site {site.id!r} is inside a building")
    return xy


def generate_sites(
    city: CityMap,
    demand: Sequence[DemandPoint],
    reach_m: float,
    listed: Sequence[UserSite] = (),
    every_m: float = EVERY_M,
    min_gap_m: float = MIN_GAP_M,
) -> list[Site]:
    """The candidate sites of a town (user-listed ones always kept, never merged away)."""
    user = _user_sites(city, listed)
    groups: list[tuple[str, FloatArray]] = [
        ("junction", np.array(city.junctions, dtype=np.float64).reshape(-1, 2)),
        ("pole", np.array(city.poles, dtype=np.float64).reshape(-1, 2)),
        ("street", _along_streets(city, every_m)),
        ("corner", _corners(city)),
    ]
    kinds = [k for k, g in groups for _ in range(len(g))]
    pts = np.vstack([g for _, g in groups])
    keep = outside_buildings(pts, city.buildings) & on_public_space(city, pts)
    if demand and len(pts):
        tree = cKDTree(np.array([(p.x, p.y) for p in demand]))
        keep &= np.isfinite(tree.query(pts, distance_upper_bound=reach_m)[0])
    taken: list[tuple[str, float, float, str]] = [
        (s.id, float(x), float(y), "user") for s, (x, y) in zip(listed, user, strict=True)
    ]
    occupied = cKDTree(user) if len(user) else None
    chosen: list[int] = []
    grid: dict[tuple[int, int], list[int]] = {}
    for i in np.flatnonzero(keep):
        x, y = pts[i]
        if occupied is not None and occupied.query(pts[i])[0] < min_gap_m:
            continue
        cell = (int(x // min_gap_m), int(y // min_gap_m))
        near = [
            j
            for dx in (-1, 0, 1)
            for dy in (-1, 0, 1)
            for j in grid.get((cell[0] + dx, cell[1] + dy), [])
        ]
        if any(np.hypot(*(pts[j] - pts[i])) < min_gap_m for j in near):
            continue
        grid.setdefault(cell, []).append(int(i))
        chosen.append(int(i))
    taken += [
        (f"{kinds[i]}-{n}", float(pts[i, 0]), float(pts[i, 1]), kinds[i])
        for n, i in enumerate(chosen)
    ]
    sites = []
    for sid, x, y, kind in taken:
        ll = city.projection.to_lonlat(x, y)
        sites.append(Site(sid, x, y, kind, round(ll.lon, 7), round(ll.lat, 7)))
    return sites
