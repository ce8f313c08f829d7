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
from dataclasses import replace

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
from cityops.planner.heuristic import covered_value, heuristic, in_order, local_search
from cityops.planner.lagrange import lagrangian_bound
from cityops.planner.model import ChosenCamera, CoverageMatrix, CurvePoint, Plan
from cityops.planner.reduction import Reduced, priorities, reduce

METHODS = ("auto", "exact", "heuristic")
LP_NNZ = 600_000
"""Above this many non-zeros the bound is the Lagrangian one (lagrange.py), not the LP."""
EXACT_NNZ = 300_000
"""``auto`` tries branch and bound when the reduced instance has at most this many non-zeros,
or when the heuristic's gap is above ``gap_target``."""


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
    chosen, bound, used, notes, _ = solve_reduced(
        red.inst, method=method, time_limit_s=time_limit_s, gap_target=gap_target
    )
    return _plan(matrix, red, chosen, bound, budget, used, started, notes)


def solve_reduced(
    inst: Covering,
    *,
    method: str = "auto",
    time_limit_s: float = 20.0,
    gap_target: float = 0.01,
    warm: FloatArray | None = None,
) -> tuple[IntArray, float, str, list[str], FloatArray | None]:
    """Chosen candidates, proven bound, method used, notes, and the Lagrangian multipliers when
    that bound was used (``warm`` starts it)."""
    started = time.perf_counter()
    notes: list[str] = []
    relaxed = None
    if inst.covers.nnz <= LP_NNZ or method == "exact":
        relaxed = lp_relaxation(inst, time_limit_s=max(1.0, time_limit_s / 2))
    chosen = heuristic(
        inst,
        lp_x=relaxed[1] if relaxed is not None else None,
        bound=relaxed[0] if relaxed is not None else None,
        time_limit_s=max(0.5, time_limit_s / 4),
        polish_rounds=0 if method == "exact" else 20,
    )
    found = covered_value(inst, chosen)
    lam = None
    if relaxed is not None:
        bound = relaxed[0]
    else:
        left = time_limit_s - (time.perf_counter() - started)
        bound, lam = lagrangian_bound(
            inst, lower=found, time_limit_s=max(0.5, left / 2), start=warm, plan=chosen
        )
        notes.append("upper bound: Lagrangian relaxation (the LP is too large for the time)")
        # The multipliers price the points: round by each candidate's price per cost, swap.
        price = sparse.csr_array(inst.covers.T, dtype=np.float64) @ lam
        order = np.argsort(-price / np.where(inst.cost > 0, inst.cost, 1.0), kind="stable")
        left = time_limit_s - (time.perf_counter() - started)
        other = local_search(inst, in_order(inst, order), time_limit_s=max(0.2, left / 4))
        if covered_value(inst, other) > found:
            chosen, found = other, covered_value(inst, other)
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
        if mip.status.lower() != "optimal":
            notes.append(f"HiGHS branch and bound: {mip.status}")
    return chosen, bound, used, notes, lam


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
    cheapest camera gives the existing cameras' coverage and no camera). The instance is reduced
    once; each budget's Lagrangian bound, when used, starts from the previous one's multipliers."""
    cheapest = float(matrix.costs.min()) if matrix.candidates else float("inf")
    base = float(priorities(matrix, sector_weights)[matrix.already_covered].sum())
    ordered = sorted(float(b) for b in budgets)
    affordable = [b for b in ordered if b >= cheapest]
    red = reduce(matrix, sector_weights, max(affordable), one_per_site) if affordable else None
    out: list[CurvePoint] = []
    warm: FloatArray | None = None
    for b in ordered:
        if red is None or b < cheapest:
            out.append(CurvePoint(b, base, base, 0.0, 0))
            continue
        started = time.perf_counter()
        inst = replace(red.inst, budget=b)
        chosen, bound, used, notes, lam = solve_reduced(
            inst, method=method, time_limit_s=time_limit_s, gap_target=gap_target, warm=warm
        )
        warm = lam if lam is not None else warm
        plan = _plan(matrix, red, chosen, bound, b, used, started, notes)
        out.append(CurvePoint(b, plan.objective, plan.upper_bound, plan.cost, len(plan.chosen)))
    return out
