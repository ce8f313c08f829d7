"""The incident history as hotspots: each past incident spreads its sector's survey weight over
the demand points around it by a Gaussian kernel (a kernel density estimate with a fixed,
isotropic bandwidth: docs/PLANNER.md "Inputs").

A fixed bandwidth rather than ``scipy.stats.gaussian_kde``'s fitted covariance: incidents raised
by one sensor all share its position, and a fitted covariance of identical points is singular."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from cityops.planner.model import SECTORS

BANDWIDTH_M = 40.0
CUTOFF = 3.0
"""Kernels are cut at CUTOFF bandwidths (the tail beyond holds about 1% of a 2D Gaussian)."""

SECTOR_OF_INCIDENT: Mapping[str, str] = {
    "safety": "safety",
    "transport": "transport",
    "disaster": "disasters",
}
"""An incident's sector (domain.entities.Sector) -> the survey's sector; others are left out."""


@dataclass(frozen=True, slots=True)
class Incident:
    x: float
    y: float
    sector: str
    """One of :data:`SECTORS`."""


def incidents_from(
    rows: Iterable[tuple[float, float, str]], to_xy: Callable[[float, float], tuple[float, float]]
) -> list[Incident]:
    """(lon, lat, incident sector) rows -> incidents in metres; sectors the survey does not
    have (environment) are dropped."""
    out = []
    for lon, lat, sector in rows:
        survey_sector = SECTOR_OF_INCIDENT.get(sector)
        if survey_sector is None:
            continue
        x, y = to_xy(lon, lat)
        out.append(Incident(float(x), float(y), survey_sector))
    return out


def hotspot_weights(
    points: npt.NDArray[np.float64],
    incidents: Iterable[Incident],
    per_incident: Mapping[str, float],
    bandwidth_m: float = BANDWIDTH_M,
) -> npt.NDArray[np.float64]:
    """Shape (len(points), len(SECTORS)): the weight each point gets from the incidents. Each
    incident's kernel is normalised over the points within reach, so one incident adds exactly
    ``per_incident[sector]`` in total (none where no point is within reach)."""
    out = np.zeros((len(points), len(SECTORS)), dtype=np.float64)
    found = list(incidents)
    if not found or len(points) == 0:
        return out
    tree = cKDTree(points)
    centres = np.array([(i.x, i.y) for i in found], dtype=np.float64)
    for incident, near in zip(
        found, tree.query_ball_point(centres, CUTOFF * bandwidth_m), strict=True
    ):
        weight = per_incident.get(incident.sector, 0.0)
        if not near or weight <= 0.0:
            continue
        idx = np.asarray(near, dtype=np.intp)
        d2 = np.sum((points[idx] - (incident.x, incident.y)) ** 2, axis=1)
        kernel = np.exp(-0.5 * d2 / bandwidth_m**2)
        out[idx, SECTORS.index(incident.sector)] += weight * kernel / kernel.sum()
    return out


def density_centres(
    incidents: Iterable[Incident], cell_m: float = 25.0
) -> list[tuple[float, float]]:
    """Distinct incident places (snapped to ``cell_m``): where demand is sampled around."""
    seen = {(round(i.x / cell_m), round(i.y / cell_m)) for i in incidents}
    return [(gx * cell_m, gy * cell_m) for gx, gy in sorted(seen)]
