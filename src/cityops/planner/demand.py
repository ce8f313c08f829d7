"""Demand points: places on streets and public space worth seeing, each weighted per sector
(docs/PLANNER.md "Inputs").

A pool of points is sampled every ``spacing_m`` along every street and on a grid over public
space (none inside a building). Each key object spreads its category's survey weight evenly
over the pool points within its category's radius (or over its own centre when none is near);
the ``street`` category gives every street point its weight per 100 m; incidents add their
hotspot kernels. Points that end up with no weight are dropped."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

from cityops.planner.catalogs import Categories
from cityops.planner.hotspots import Incident, hotspot_weights
from cityops.planner.model import SECTORS, DemandPoint
from cityops.planner.osm_inputs import CityMap
from cityops.planner.survey import Survey

SPACING_M = 10.0
FloatArray = npt.NDArray[np.float64]


def _street_points(city: CityMap, spacing: float) -> FloatArray:
    chunks = []
    for line, _ in city.streets:
        n = max(1, int(line.length // spacing))
        pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1))
        chunks.append(shapely.get_coordinates(pts))
    return np.vstack(chunks) if chunks else np.zeros((0, 2))


def _area_points(city: CityMap, spacing: float) -> FloatArray:
    chunks = []
    for area in city.public_areas:
        x0, y0, x1, y1 = area.bounds
        xs, ys = np.meshgrid(np.arange(x0, x1, spacing), np.arange(y0, y1, spacing))
        grid = np.column_stack([xs.ravel(), ys.ravel()]) + spacing / 2
        inside = shapely.contains_xy(area, grid[:, 0], grid[:, 1])
        chunks.append(grid[inside])
    return np.vstack(chunks) if chunks else np.zeros((0, 2))


def outside_buildings(
    points: FloatArray, buildings: Sequence[shapely.Polygon]
) -> npt.NDArray[np.bool_]:
    """For each point: is it outside every building (on a façade counts as outside)?"""
    keep = np.ones(len(points), dtype=bool)
    if len(points) == 0 or not buildings:
        return keep
    tree = shapely.STRtree(list(buildings))
    inside, _ = tree.query(shapely.points(points), predicate="within")
    keep[inside] = False
    return keep


def pool(city: CityMap, spacing: float = SPACING_M) -> FloatArray:
    """Candidate demand places: street and public-space samples outside buildings, deduplicated
    to a grid of half the spacing."""
    pts = np.vstack([_street_points(city, spacing), _area_points(city, spacing)])
    cells = np.round(pts / (spacing / 2)).astype(np.int64)
    _, first = np.unique(cells, axis=0, return_index=True)
    pts = pts[np.sort(first)]
    return pts[outside_buildings(pts, city.buildings)]


def sample_demand(
    city: CityMap,
    categories: Categories,
    survey: Survey,
    incidents: Sequence[Incident] = (),
    spacing: float = SPACING_M,
) -> list[DemandPoint]:
    """The weighted demand points of a town."""
    pts = pool(city, spacing)
    weights = np.zeros((len(pts), len(SECTORS)))
    best = np.zeros(len(pts))
    label = np.full(len(pts), "street", dtype=object)
    extra: list[tuple[float, float, str, dict[str, float]]] = []
    tree = shapely.STRtree(shapely.points(pts)) if len(pts) else None
    for obj in city.key_objects:
        w = np.array([survey.weight(obj.category)[s] for s in SECTORS])
        if not w.any():
            continue
        radius = categories.radius(obj.category)
        near = (
            tree.query(obj.geometry, predicate="dwithin", distance=radius)
            if tree is not None
            else np.zeros(0, dtype=np.intp)
        )
        if len(near) == 0:
            c = obj.geometry.representative_point()
            extra.append((c.x, c.y, obj.category, dict(zip(SECTORS, w.tolist(), strict=True))))
            continue
        share = w / len(near)
        weights[near] += share
        heavier = share.sum() > best[near]
        label[near[heavier]] = obj.category
        best[near[heavier]] = share.sum()
    street = np.array([survey.weight("street")[s] for s in SECTORS]) * spacing / 100.0
    weights += street
    hot = hotspot_weights(pts, incidents, survey.hotspots)
    label[(hot.sum(axis=1) > best) & (hot.sum(axis=1) > 0)] = "hotspot"
    weights += hot
    out = [
        DemandPoint(
            id=f"d{i}",
            x=float(pts[i, 0]),
            y=float(pts[i, 1]),
            weights={s: float(weights[i, k]) for k, s in enumerate(SECTORS)},
            category=str(label[i]),
            source="sample",
        )
        for i in np.flatnonzero(weights.sum(axis=1) > 0)
    ]
    keep = outside_buildings(
        np.array([(x, y) for x, y, _, _ in extra]).reshape(-1, 2), city.buildings
    )
    for k, (x, y, category, ws) in enumerate(extra):
        if keep[k]:
            out.append(DemandPoint(f"k{k}", x, y, ws, category, "key-object"))
    return out
