"""Choose cameras: maximal covering under a budget, with a proven gap (docs/PLANNER.md
"Optimisation").

``solve`` reduces the instance (points already covered, worthless or unreachable dropped;
points seen by the same candidates merged; unaffordable and duplicate candidates dropped),
runs the heuristic (lazy greedy + swaps), bounds it with HiGHS's LP relaxation, and, with
``method="auto"``, runs HiGHS's branch and bound from the heuristic's plan when the gap is not
closed and time remains. The gap is that of what the new cameras add:
``(bound - found) / bound`` on the demand the existing cameras leave uncovered.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from cityops.planner.bounds import (
    OPTIMAL_GAP,
    Covering,
    FloatArray,
    IntArray,
    lp_relaxation,
    solve_mip,
)
from cityops.planner.heuristic import covered_value, heuristic
from cityops.planner.model import ChosenCamera, CoverageMatrix, CurvePoint, Plan

METHODS = ("auto", "exact", "heuristic")
EXACT_NNZ = 300_000
"""``auto`` tries branch and bound when the reduced instance has at most this many non-zeros,
or when the heuristic's gap is above ``gap_target``."""


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


def solve(
    matrix: CoverageMatrix,
    sector_weights: Mapping[str, float],
    budget: float,
    *,
    one_per_site: bool = True,
    method: str = "auto",
    time_limit_s: float = 20.0,
    gap_target: float = 0.01,
) -> Plan:
    """The best plan found within ``budget``, with its proven upper bound and gap."""
    started = time.perf_counter()
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; one of {METHODS}")
    if not np.isfinite(budget) or budget < 0:
        raise ValueError("the budget must be a finite number >= 0")
    if not matrix.candidates:
        raise ValueError("no candidate cameras to choose from")
    cheapest = float(matrix.costs.min())
    if budget < cheapest:
        raise ValueError(f"budget {budget:g} is below the cheapest camera ({cheapest:g})")
    red = reduce(matrix, sector_weights, budget, one_per_site)
    inst = red.inst
    notes: list[str] = []
    relaxed = lp_relaxation(inst, time_limit_s=max(1.0, time_limit_s / 2))
    lp_x = relaxed[1] if relaxed is not None else None
    bound = relaxed[0] if relaxed is not None else float(inst.weight.sum())
    if relaxed is None:
        notes.append("LP relaxation not solved in time: bound = all uncovered demand")
    chosen = heuristic(
        inst,
        lp_x=lp_x,
        bound=bound,
        time_limit_s=max(0.5, time_limit_s / 4),
        polish_rounds=0 if method == "exact" else 20,
    )
    found = covered_value(inst, chosen)
    used = "heuristic"
    bound = max(bound, found)
    gap = _gap(found, bound)
    left = time_limit_s - (time.perf_counter() - started)
    want_exact = method == "exact" or (
        method == "auto"
        and gap > 0
        and left > 0.5
        and (inst.covers.nnz <= EXACT_NNZ or gap > gap_target)
    )
    if want_exact:
        mip = solve_mip(inst, start=chosen, time_limit_s=max(0.5, left))
        if mip.objective > found + 1e-12:
            chosen, found = mip.chosen, mip.objective
            used = "exact" if method == "exact" else "heuristic+exact"
        elif method == "exact":
            used = "exact"
        bound = max(found, min(bound, mip.bound))
        gap = _gap(found, bound)
        if mip.status.lower() != "optimal":
            notes.append(f"HiGHS branch and bound: {mip.status}")
    return _plan(matrix, red, chosen, bound, budget, used, started, notes)


def _gap(found: float, bound: float) -> float:
    """Relative gap; 0 within HiGHS's tolerances (OPTIMAL_GAP)."""
    if bound <= 0:
        return 0.0
    gap = (bound - found) / bound
    return gap if gap > OPTIMAL_GAP else 0.0


def _plan(
    matrix: CoverageMatrix,
    red: Reduced,
    chosen: IntArray,
    bound: float,
    budget: float,
    method: str,
    started: float,
    notes: list[str],
) -> Plan:
    w = red.point_weight
    before = matrix.already_covered.copy()
    covered = before.copy()
    cols = [int(red.columns[j]) for j in chosen]
    cams: list[ChosenCamera] = []
    csc = matrix.covers
    while cols:
        gains = [float(w[_rows(csc, j)][~covered[_rows(csc, j)]].sum()) for j in cols]
        j = cols.pop(int(np.argmax(gains)))
        new = _rows(csc, j)[~covered[_rows(csc, j)]]
        per = matrix.weights[new].sum(axis=0)
        cams.append(
            ChosenCamera(
                candidate=matrix.candidates[j],
                gain={s: float(per[k]) for k, s in enumerate(matrix.sectors)},
                gain_weighted=float(w[new].sum()),
                points_added=len(new),
            )
        )
        covered[new] = True
    baseline = float(w[before].sum())
    objective = float(w[covered].sum())
    added = objective - baseline
    upper = baseline + max(bound, added)
    sums = matrix.weights
    return Plan(
        chosen=tuple(cams),
        objective=objective,
        upper_bound=upper,
        gap=_gap(added, max(bound, added)),
        cost=float(sum(c.candidate.cost for c in cams)),
        budget=float(budget),
        method=method,
        baseline=baseline,
        total=float(w.sum()),
        covered_before={s: float(sums[before, k].sum()) for k, s in enumerate(matrix.sectors)},
        covered_after={s: float(sums[covered, k].sum()) for k, s in enumerate(matrix.sectors)},
        sector_totals={s: float(sums[:, k].sum()) for k, s in enumerate(matrix.sectors)},
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def _rows(csc: sparse.csc_array, j: int) -> IntArray:
    return np.asarray(csc.indices[csc.indptr[j] : csc.indptr[j + 1]], dtype=np.intp)


def coverage_curve(
    matrix: CoverageMatrix,
    sector_weights: Mapping[str, float],
    budgets: Sequence[float],
    *,
    one_per_site: bool = True,
    method: str = "auto",
    time_limit_s: float = 20.0,
    gap_target: float = 0.01,
) -> list[CurvePoint]:
    """Coverage against budget: one plan per budget, in increasing order (a budget below the
    cheapest camera gives the existing cameras' coverage and no camera)."""
    cheapest = float(matrix.costs.min()) if matrix.candidates else float("inf")
    out: list[CurvePoint] = []
    for b in sorted(budgets):
        if b < cheapest:
            base = float(priorities(matrix, sector_weights)[matrix.already_covered].sum())
            out.append(CurvePoint(float(b), base, base, 0.0, 0))
            continue
        plan = solve(
            matrix,
            sector_weights,
            b,
            one_per_site=one_per_site,
            method=method,
            time_limit_s=time_limit_s,
            gap_target=gap_target,
        )
        out.append(
            CurvePoint(float(b), plan.objective, plan.upper_bound, plan.cost, len(plan.chosen))
        )
    return out
