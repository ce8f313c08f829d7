"""The camera network planner's shared types (docs/PLANNER.md).

Coordinates ``x``/``y`` are metres in one local metric projection (east, north), e.g.
``cityops.domain.geo.LocalProjection`` centred on the town; headings are compass bearings
(0 = north, 90 = east, clockwise), as everywhere else in CityOps.

Functions built on these types:

- ``visibility.candidates_for(sites, models) -> list[Candidate]``: every fixed model at every
  heading ``0, step, 2*step, ...`` at every site, and one PTZ candidate (``heading_deg=None``).
- ``coverage.coverage_matrix(points, sites, models, obstacles, existing=(), *,
  method="auto", candidates=None) -> CoverageMatrix``: who covers whom, line of sight included.
- ``visibility.view_polygon(x, y, heading_deg, fov_deg, range_m, obstacles) -> Polygon``: the
  area a camera sees (its sector less the buildings' shadows), for maps and GeoJSON.
- ``optimize.solve(matrix, sector_weights, budget, *, one_per_site=True, method="auto",
  time_limit_s=20.0, gap_target=0.01) -> Plan``.
- ``optimize.coverage_curve(matrix, sector_weights, budgets, **solve_kwargs) -> list[CurvePoint]``.
- ``mclp.run_mclp(path, radius, sites, *, exact=False) -> MclpResult`` (``.to_json()``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse

SECTORS: tuple[str, ...] = ("safety", "transport", "disasters")
"""The sectors whose priorities a survey collects, in this order in every array."""


@dataclass(frozen=True, slots=True)
class DemandPoint:
    """A place worth seeing, with its importance per sector (missing sectors weigh 0)."""

    id: str
    x: float
    y: float
    weights: Mapping[str, float]
    category: str
    """E.g. "school", "junction", "hotspot", "street"."""
    source: str
    """Where it came from, e.g. "osm:way/123", "hotspot", "survey"."""


@dataclass(frozen=True, slots=True)
class Site:
    """A place a camera can be mounted."""

    id: str
    x: float
    y: float
    kind: str
    """E.g. "junction", "street", "corner", "pole", "user"."""
    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class CameraModel:
    id: str
    fov_deg: float
    """Horizontal field of view (a fixed camera); ignored for PTZ."""
    range_m: float
    cost: float
    ptz: bool
    heading_step_deg: float = 30.0
    """A fixed camera may be mounted at headings 0, step, 2*step, ..."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """One choice the optimiser can make: a model at a site, pointed at a heading."""

    site_id: str
    model_id: str
    heading_deg: float | None
    """None for a PTZ camera: it covers the full circle within range (docs/PLANNER.md)."""
    cost: float


@dataclass(frozen=True, slots=True)
class ExistingCamera:
    """A camera already there: what it sees counts as covered before any plan."""

    x: float
    y: float
    heading_deg: float
    fov_deg: float
    """360 for a PTZ camera."""
    range_m: float


@dataclass(frozen=True)
class CoverageMatrix:
    """Which candidate covers which demand point (line of sight included)."""

    points: tuple[DemandPoint, ...]
    candidates: tuple[Candidate, ...]
    covers: sparse.csc_array
    """Boolean, shape (points, candidates): ``covers[i, j]``: candidate j sees point i."""
    weights: npt.NDArray[np.float64]
    """Shape (len(points), len(SECTORS)): each point's weight per sector."""
    already_covered: npt.NDArray[np.bool_]
    """Shape (len(points),): seen by an existing camera (counts as covered, whatever the plan)."""
    sectors: tuple[str, ...] = SECTORS
    seconds: float = 0.0
    """Time spent computing it (visibility included)."""

    @property
    def costs(self) -> npt.NDArray[np.float64]:
        return np.array([c.cost for c in self.candidates], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ChosenCamera:
    candidate: Candidate
    gain: Mapping[str, float]
    """Marginal gain per sector: the weighted demand this camera adds, the chosen cameras being
    counted in the order listed (each next the one adding the most), so the gains add up to the
    plan's coverage less the existing cameras'. Unweighted by sector priorities."""
    gain_weighted: float
    """The same, weighted by the sector priorities (the objective's unit)."""
    points_added: int


@dataclass(frozen=True)
class Plan:
    chosen: tuple[ChosenCamera, ...]
    objective: float
    """Weighted demand covered, the existing cameras' included."""
    upper_bound: float
    """Proven: no plan within the budget covers more (LP relaxation or the MIP's dual bound)."""
    gap: float
    """Of what the new cameras add: (bound - added) / bound, where added = objective - baseline
    and bound = upper_bound - baseline; 0 when proven optimal (within 1e-6)."""
    cost: float
    budget: float
    method: str
    """"exact" (HiGHS MIP), "heuristic" (lazy greedy + swaps) or "heuristic+exact"."""
    baseline: float
    """Weighted demand the existing cameras already cover."""
    total: float
    """Weighted demand of all points (100% coverage)."""
    covered_before: Mapping[str, float]
    """Per sector, unweighted by priorities: demand covered by the existing cameras."""
    covered_after: Mapping[str, float]
    """Per sector: demand covered by existing and chosen cameras."""
    sector_totals: Mapping[str, float]
    seconds: float
    notes: tuple[str, ...] = field(default=())

    @property
    def proven_optimal(self) -> bool:
        return self.gap == 0.0


@dataclass(frozen=True, slots=True)
class CurvePoint:
    budget: float
    objective: float
    upper_bound: float
    cost: float
    cameras: int
