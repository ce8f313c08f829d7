"""Line of sight past buildings, fields of view, and the area a camera sees (docs/PLANNER.md
"Visibility").

All geometry is 2D in metres of one local projection. A sight line from a camera to a point is
clear when it crosses no building's interior. Buildings are shrunk by ``EDGE_M`` first, so a
camera mounted on a wall or a corner still sees along that wall, and a point on a façade counts
as seen from the street in front of it; a point inside a building is never seen.

Two interchangeable ways to test many sight lines (``method``):

- ``"vector"``: every sight line a Shapely ``LineString``, tested at once against an ``STRtree``
  of the buildings (``predicate="intersects"``). Exact.
- ``"raster"``: the buildings burnt into a grid of ``cell_m`` cells (a cell is a building when its
  centre is inside one); each line sampled every ``cell_m / 2`` with NumPy, leaving out the
  samples within 1.5 cells of either end. Approximate within a cell or two of a wall.

``"auto"`` picks ``"vector"``: measured faster at town scale (docs/PLANNER.md "Performance").
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree
from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from cityops.planner.model import CameraModel, Candidate, Site

EDGE_M = 0.1
"""Buildings are shrunk by this much before sight lines are tested (see the module text)."""
NEAR_M = 1.0
"""A point this close to a camera counts as seen whatever the heading (as domain.visibility)."""

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]


def candidates_for(sites: Iterable[Site], models: Sequence[CameraModel]) -> list[Candidate]:
    """Every model at every site: a fixed model once per heading 0, step, 2*step, ... < 360;
    a PTZ model once, with ``heading_deg=None``."""
    out: list[Candidate] = []
    for site in sites:
        for model in models:
            if model.ptz:
                out.append(Candidate(site.id, model.id, None, model.cost))
                continue
            if not 0 < model.heading_step_deg <= 360:
                raise ValueError(f"camera model {model.id}: heading step must be in (0, 360]")
            count = max(1, math.ceil(360.0 / model.heading_step_deg - 1e-9))
            for k in range(count):
                out.append(Candidate(site.id, model.id, k * model.heading_step_deg, model.cost))
    return out


class Obstacles:
    """Building polygons prepared for many sight-line tests."""

    def __init__(self, polygons: Sequence[BaseGeometry], *, cell_m: float = 0.5) -> None:
        geoms = np.asarray([p for p in polygons if p is not None and not p.is_empty], dtype=object)
        # Map data holds self-intersecting outlines: made valid first (a bow-tie's two halves).
        shrunk = shapely.buffer(shapely.make_valid(geoms), -EDGE_M) if len(geoms) else geoms
        self.polygons: npt.NDArray[np.object_] = (
            shrunk[~shapely.is_empty(shrunk)] if len(shrunk) else shrunk
        )
        shapely.prepare(self.polygons)
        self.tree = shapely.STRtree(self.polygons)
        self.cell_m = cell_m
        self._grid: tuple[BoolArray, float, float] | None = None

    def __len__(self) -> int:
        return len(self.polygons)

    def blocked(self, origins: FloatArray, targets: FloatArray, method: str = "auto") -> BoolArray:
        """For each pair (origins[k], targets[k]) (arrays of shape (n, 2)): is the line blocked?"""
        n = len(origins)
        out = np.zeros(n, dtype=bool)
        if n == 0 or len(self.polygons) == 0:
            return out
        if method in ("auto", "vector"):
            lines = shapely.linestrings(np.stack([origins, targets], axis=1))
            hit = self.tree.query(lines, predicate="intersects")
            out[hit[0]] = True
            return out
        if method == "raster":
            return self._blocked_raster(origins, targets)
        raise ValueError(f"unknown visibility method {method!r}")

    def grid(self) -> tuple[BoolArray, float, float]:
        """The buildings as a boolean raster (row = y), with its lower-left corner."""
        if self._grid is None:
            xmin, ymin, xmax, ymax = shapely.total_bounds(self.polygons)
            c = self.cell_m
            nx = math.ceil((xmax - xmin) / c) + 1
            ny = math.ceil((ymax - ymin) / c) + 1
            grid = np.zeros((ny, nx), dtype=bool)
            bounds = shapely.bounds(self.polygons)
            for poly, (bx0, by0, bx1, by1) in zip(self.polygons, bounds, strict=True):
                i0, i1 = int((bx0 - xmin) / c), int((bx1 - xmin) / c) + 1
                j0, j1 = int((by0 - ymin) / c), int((by1 - ymin) / c) + 1
                xs = xmin + (np.arange(i0, i1) + 0.5) * c
                ys = ymin + (np.arange(j0, j1) + 0.5) * c
                gx, gy = np.meshgrid(xs, ys)
                grid[j0:j1, i0:i1] |= shapely.contains_xy(poly, gx, gy)
            self._grid = (grid, float(xmin), float(ymin))
        return self._grid

    def _blocked_raster(self, origins: FloatArray, targets: FloatArray) -> BoolArray:
        grid, x0, y0 = self.grid()
        c = self.cell_m
        d = targets - origins
        length = np.hypot(d[:, 0], d[:, 1])
        steps = np.maximum(1, np.ceil(length / (c / 2.0)).astype(np.intp))
        out = np.zeros(len(origins), dtype=bool)
        # Lines in chunks so the sample arrays stay small.
        order = np.argsort(steps)
        for chunk in np.array_split(order, max(1, len(order) // 20000)):
            if len(chunk) == 0:
                continue
            m = int(steps[chunk].max())
            t = (np.arange(m + 1)[None, :] / steps[chunk][:, None]).clip(max=1.0)
            # Samples within a cell of either end are skipped: a camera on a wall, or a point
            # on a façade, sits in a building's edge cell.
            along = t * length[chunk][:, None]
            ends = (along < c * 1.5) | (along > length[chunk][:, None] - c * 1.5)
            xs = origins[chunk, 0:1] + t * d[chunk, 0:1]
            ys = origins[chunk, 1:2] + t * d[chunk, 1:2]
            ix = np.floor((xs - x0) / c).astype(np.intp)
            iy = np.floor((ys - y0) / c).astype(np.intp)
            inside = (ix >= 0) & (iy >= 0) & (ix < grid.shape[1]) & (iy < grid.shape[0])
            hits = np.zeros(ix.shape, dtype=bool)
            hits[inside] = grid[iy[inside], ix[inside]]
            hits &= ~ends
            out[chunk] = hits.any(axis=1)
        return out


@dataclass(frozen=True)
class Sightlines:
    """Every (origin, point) pair within range, with distance, bearing and line of sight."""

    origin: IntArray
    point: IntArray
    distance: FloatArray
    bearing: FloatArray
    visible: BoolArray

    def in_view(self, heading_deg: float | None, fov_deg: float, range_m: float) -> BoolArray:
        """Pairs a camera with this heading, field of view and range sees (None: PTZ)."""
        seen = self.visible & (self.distance <= range_m)
        if heading_deg is None or fov_deg >= 360.0:
            return seen
        off = np.abs((self.bearing - heading_deg + 180.0) % 360.0 - 180.0)
        return seen & ((off <= fov_deg / 2.0 + 1e-9) | (self.distance < NEAR_M))


def sightlines(
    origins: FloatArray,
    points: FloatArray,
    radius_m: float,
    obstacles: Obstacles,
    *,
    method: str = "auto",
) -> Sightlines:
    """All pairs closer than ``radius_m``, their geometry and whether a building blocks them."""
    empty_i = np.zeros(0, dtype=np.intp)
    empty_f = np.zeros(0, dtype=np.float64)
    if len(origins) == 0 or len(points) == 0:
        return Sightlines(empty_i, empty_i, empty_f, empty_f, np.zeros(0, dtype=bool))
    pairs = cKDTree(origins).sparse_distance_matrix(
        cKDTree(points), radius_m, output_type="ndarray"
    )
    o = pairs["i"].astype(np.intp)
    p = pairs["j"].astype(np.intp)
    # sparse_distance_matrix leaves out zero distances: a point exactly at an origin.
    same = cKDTree(points).query_ball_point(origins, 0.0)
    extra = [(k, j) for k, js in enumerate(same) for j in js]
    if extra:
        eo, ep = (np.array(v, dtype=np.intp) for v in zip(*extra, strict=True))
        o, p = np.concatenate([o, eo]), np.concatenate([p, ep])
    d = points[p] - origins[o]
    dist = np.hypot(d[:, 0], d[:, 1])
    bearing = np.degrees(np.arctan2(d[:, 0], d[:, 1])) % 360.0
    visible = ~obstacles.blocked(origins[o], points[p], method)
    return Sightlines(o, p, dist, bearing, visible)


def view_polygon(
    x: float,
    y: float,
    heading_deg: float | None,
    fov_deg: float,
    range_m: float,
    obstacles: Obstacles | Sequence[BaseGeometry],
) -> BaseGeometry:
    """The area a camera sees: its sector (a disc for PTZ) less the buildings and their shadows."""
    obs = obstacles if isinstance(obstacles, Obstacles) else Obstacles(obstacles)
    sector = _sector(x, y, heading_deg, fov_deg, range_m)
    near = obs.tree.query(sector, predicate="intersects")
    if len(near) == 0:
        return sector
    shadows = [_shadow(x, y, poly, range_m * 2.0) for poly in obs.polygons[near]]
    return sector.difference(shapely.union_all(shadows))


def _sector(
    x: float, y: float, heading_deg: float | None, fov_deg: float, range_m: float
) -> Polygon:
    if heading_deg is None or fov_deg >= 360.0:
        return shapely.Point(x, y).buffer(range_m, quad_segs=32)
    n = max(4, int(fov_deg / 2.0))
    angles = np.radians(np.linspace(heading_deg - fov_deg / 2, heading_deg + fov_deg / 2, n))
    arc = np.column_stack([x + range_m * np.sin(angles), y + range_m * np.cos(angles)])
    return Polygon(np.vstack([[x, y], arc]))


def _shadow(x: float, y: float, poly: BaseGeometry, far_m: float) -> BaseGeometry:
    """The building and everything behind it seen from (x, y): the union of each edge's shadow."""
    parts: list[BaseGeometry] = [poly]
    for ring in [poly.exterior] if isinstance(poly, Polygon) else [g.exterior for g in poly.geoms]:
        c = np.asarray(ring.coords)
        a, b = c[:-1], c[1:]
        da, db = a - [x, y], b - [x, y]
        na = np.maximum(np.hypot(da[:, 0], da[:, 1]), 1e-9)[:, None]
        nb = np.maximum(np.hypot(db[:, 0], db[:, 1]), 1e-9)[:, None]
        fa, fb = [x, y] + da / na * far_m, [x, y] + db / nb * far_m
        quads = shapely.polygons(np.stack([a, b, fb, fa, a], axis=1))
        parts.extend(shapely.make_valid(quads))
    return shapely.union_all(parts)
