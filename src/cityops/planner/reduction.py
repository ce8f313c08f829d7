"""The instance the optimiser works on: points already covered, worthless or unreachable
dropped; points seen by the same candidates merged (their weights added); unaffordable and
duplicate candidates dropped (docs/PLANNER.md "Optimisation")."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from cityops.planner.bounds import Covering, FloatArray, IntArray
from cityops.planner.model import CoverageMatrix


@dataclass(frozen=True)
class Reduced:
    inst: Covering
    columns: IntArray
    """Reduced candidate -> the matrix's candidate index."""
    point_weight: FloatArray
    """Each original point's weight under the sector priorities."""


def priorities(matrix: CoverageMatrix, sector_weights: Mapping[str, float]) -> FloatArray:
    unknown = set(sector_weights) - set(matrix.sectors)
    if unknown:
        raise ValueError(f"unknown sectors {sorted(unknown)}; known: {list(matrix.sectors)}")
    vec = np.array([float(sector_weights.get(s, 0.0)) for s in matrix.sectors])
    if not np.isfinite(vec).all() or (vec < 0).any():
        raise ValueError("sector priorities must be finite and >= 0")
    return np.asarray(matrix.weights @ vec, dtype=np.float64)


def reduce(
    matrix: CoverageMatrix, sector_weights: Mapping[str, float], budget: float, one_per_site: bool
) -> Reduced:
    w = priorities(matrix, sector_weights)
    costs = matrix.costs
    rows = np.flatnonzero(~matrix.already_covered & (w > 0))
    cols = np.flatnonzero(costs <= budget + 1e-9)
    sub = sparse.csr_array(matrix.covers[rows][:, cols])
    merged: dict[bytes, int] = {}
    keep_rows: list[int] = []
    agg: list[float] = []
    for k in range(sub.shape[0]):
        key = sub.indices[sub.indptr[k] : sub.indptr[k + 1]].tobytes()
        if not key:
            continue
        at = merged.setdefault(key, len(keep_rows))
        if at == len(keep_rows):
            keep_rows.append(k)
            agg.append(0.0)
        agg[at] += float(w[rows[k]])
    cov = sparse.csc_array(sub[keep_rows]) if keep_rows else sparse.csc_array((0, len(cols)))
    site_ids = [matrix.candidates[j].site_id for j in cols]
    _, site_no = np.unique(np.array(site_ids, dtype=object), return_inverse=True)
    seen: set[tuple[int, float, bytes]] = set()
    keep_cols: list[int] = []
    for k in range(cov.shape[1]):
        pts = cov.indices[cov.indptr[k] : cov.indptr[k + 1]]
        key = (int(site_no[k]) if one_per_site else -1 - k, float(costs[cols[k]]), pts.tobytes())
        if len(pts) and key not in seen:
            seen.add(key)
            keep_cols.append(k)
    kc = np.array(keep_cols, dtype=np.intp)
    site = site_no[kc].astype(np.intp) if one_per_site else np.full(len(kc), -1, dtype=np.intp)
    inst = Covering(
        covers=sparse.csc_array(cov[:, kc]),
        weight=np.array(agg, dtype=np.float64),
        cost=costs[cols[kc]],
        site=site,
        budget=float(budget),
    )
    return Reduced(inst, cols[kc], w)
