"""The coverage matrix: which candidate camera sees which demand point (docs/PLANNER.md).

Sight lines do not depend on heading or model, so they are computed once per (site, point)
pair within the longest range; each (model, heading) is then a vectorised mask over them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
from scipy import sparse
from shapely.geometry.base import BaseGeometry

from cityops.planner.model import (
    SECTORS,
    CameraModel,
    Candidate,
    CoverageMatrix,
    DemandPoint,
    ExistingCamera,
    Site,
)
from cityops.planner.visibility import (
    BoolArray,
    FloatArray,
    IntArray,
    Obstacles,
    candidates_for,
    sightlines,
)


def weights_array(points: Sequence[DemandPoint], sectors: Sequence[str] = SECTORS) -> FloatArray:
    """Shape (points, sectors); a negative or non-finite weight is refused."""
    w = np.array([[p.weights.get(s, 0.0) for s in sectors] for p in points], dtype=np.float64)
    w = w.reshape(len(points), len(sectors))
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        i = int(np.argwhere(bad)[0][0])
        raise ValueError(f"demand point {points[i].id}: weights must be finite and >= 0")
    return w


def coverage_matrix(
    points: Sequence[DemandPoint],
    sites: Sequence[Site],
    models: Sequence[CameraModel],
    obstacles: Obstacles | Sequence[BaseGeometry],
    existing: Iterable[ExistingCamera] = (),
    *,
    method: str = "auto",
    candidates: Sequence[Candidate] | None = None,
) -> CoverageMatrix:
    """Every candidate's covered points, and the points the existing cameras already cover.

    ``candidates`` defaults to ``candidates_for(sites, models)``; each must name a known site and
    model. ``method`` picks the line-of-sight test (visibility.Obstacles.blocked)."""
    started = time.perf_counter()
    obs = obstacles if isinstance(obstacles, Obstacles) else Obstacles(obstacles)
    cands = list(candidates) if candidates is not None else candidates_for(sites, models)
    by_model = {m.id: m for m in models}
    site_index = {s.id: k for k, s in enumerate(sites)}
    for c in cands:
        if c.site_id not in site_index or c.model_id not in by_model:
            raise ValueError(f"candidate {c}: unknown site or camera model")
    pxy = np.array([(p.x, p.y) for p in points], dtype=np.float64).reshape(-1, 2)
    sxy = np.array([(s.x, s.y) for s in sites], dtype=np.float64).reshape(-1, 2)
    used = {c.model_id for c in cands}
    reach = max((by_model[m].range_m for m in used), default=0.0)
    lines = sightlines(sxy, pxy, reach, obs, method=method)

    groups: dict[tuple[str, float | None], list[int]] = defaultdict(list)
    for j, c in enumerate(cands):
        groups[(c.model_id, c.heading_deg)].append(j)
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    for (model_id, heading), js in groups.items():
        model = by_model[model_id]
        col_of_site = np.full(len(sites), -1, dtype=np.intp)
        for j in js:
            col_of_site[site_index[cands[j].site_id]] = j
        fov = 360.0 if model.ptz else model.fov_deg
        seen = lines.in_view(None if model.ptz else heading, fov, model.range_m)
        col = col_of_site[lines.origin]
        keep = seen & (col >= 0)
        rows.append(lines.point[keep])
        cols.append(col[keep])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.intp)
    k = np.concatenate(cols) if cols else np.zeros(0, dtype=np.intp)
    covers = sparse.csc_array(
        (np.ones(len(r), dtype=bool), (r, k)), shape=(len(points), len(cands))
    )
    return CoverageMatrix(
        points=tuple(points),
        candidates=tuple(cands),
        covers=covers,
        weights=weights_array(points),
        already_covered=existing_coverage(pxy, list(existing), obs, method=method),
        seconds=time.perf_counter() - started,
    )


def existing_coverage(
    pxy: FloatArray, cameras: Sequence[ExistingCamera], obs: Obstacles, *, method: str = "auto"
) -> BoolArray:
    """Points an existing camera sees (field of view, range, line of sight)."""
    covered = np.zeros(len(pxy), dtype=bool)
    if not cameras or len(pxy) == 0:
        return covered
    cxy = np.array([(c.x, c.y) for c in cameras], dtype=np.float64)
    lines = sightlines(cxy, pxy, max(c.range_m for c in cameras), obs, method=method)
    heading = np.array([c.heading_deg for c in cameras])[lines.origin]
    fov = np.array([c.fov_deg for c in cameras])[lines.origin]
    rng = np.array([c.range_m for c in cameras])[lines.origin]
    off = np.abs((lines.bearing - heading + 180.0) % 360.0 - 180.0)
    seen = (
        lines.visible
        & (lines.distance <= rng)
        & ((fov >= 360.0) | (off <= fov / 2.0 + 1e-9) | (lines.distance < 1.0))
    )
    covered[lines.point[seen]] = True
    return covered
