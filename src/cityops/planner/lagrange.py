"""A Lagrangian upper bound for budgeted maximal covering, for instances whose LP relaxation
does not solve in time (docs/PLANNER.md "Optimisation").

The coverage constraints ``y_i <= sum_{j covers i} x_j`` are moved into the objective with
multipliers ``0 <= l_i <= w_i``:

    L(l) = sum_i (w_i - l_i) + max { sum_j g_j x_j : budget, one per site, 0 <= x <= 1 },
    g_j  = sum_{i covered by j} l_i.

For any such ``l``, ``L(l)`` is an upper bound of the covering optimum. The inner maximum is
bounded from above by a fractional knapsack in which each site may hold at most one candidate
*per cost* (a relaxation of one per site, so the bound stays valid), and ``l`` is improved by
subgradient steps (Polyak's rule, step halved when the bound stalls). Every value returned is a
bound whatever the number of steps; more steps make it tighter.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from cityops.planner.bounds import BOUND_SLACK, Covering, FloatArray, IntArray


def _groups(inst: Covering) -> tuple[IntArray, IntArray]:
    """Candidates sorted by (site, cost) group, and each group's start in that order; a
    candidate free of the one-per-site rule is a group of its own."""
    n = inst.covers.shape[1]
    site = np.where(inst.site >= 0, inst.site, -1 - np.arange(n))
    order = np.lexsort((inst.cost, site))
    key_site, key_cost = site[order], inst.cost[order]
    new = np.ones(n, dtype=bool)
    new[1:] = (key_site[1:] != key_site[:-1]) | (key_cost[1:] != key_cost[:-1])
    return order, np.flatnonzero(new)


def _inner(
    g: FloatArray, inst: Covering, order: IntArray, starts: IntArray
) -> tuple[float, FloatArray]:
    """The fractional knapsack over the groups' best candidates: its value and an x."""
    best_val = np.maximum.reduceat(g[order], starts)
    # The first candidate reaching the group's maximum represents the group.
    group_of = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(order))))
    is_best = g[order] >= best_val[group_of]
    first = np.full(len(starts), -1)
    idx = np.flatnonzero(is_best)
    first_pos = np.unique(group_of[idx], return_index=True)[1]
    first[group_of[idx[first_pos]]] = order[idx[first_pos]]
    cost = inst.cost[first]
    useful = best_val > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, best_val / np.maximum(cost, 1e-300), np.inf)
    pick = np.flatnonzero(useful)
    pick = pick[np.argsort(-ratio[pick], kind="stable")]
    x = np.zeros(inst.covers.shape[1])
    left = inst.budget
    value = 0.0
    for k in pick:
        c = float(cost[k])
        if c <= left:
            x[first[k]] = 1.0
            value += float(best_val[k])
            left -= c
        else:
            frac = left / c if c > 0 else 1.0
            x[first[k]] = frac
            value += frac * float(best_val[k])
            break
    return value, x


def lagrangian_bound(
    inst: Covering,
    *,
    lower: float,
    time_limit_s: float = 5.0,
    max_steps: int = 400,
    start: FloatArray | None = None,
) -> tuple[float, FloatArray]:
    """The best (lowest) bound found within the steps or time, and its multipliers (to start
    a related instance from, e.g. the next budget of a coverage curve). ``lower``: the value of
    a known plan (for the step size)."""
    deadline = time.perf_counter() + time_limit_s
    w = inst.weight
    if inst.covers.shape[1] == 0 or len(w) == 0:
        return 0.0, np.zeros(len(w))
    cov = sparse.csr_array(inst.covers, dtype=np.float64)
    cov_t = sparse.csr_array(cov.T)
    order, starts = _groups(inst)
    lam = np.clip(start, 0.0, w) if start is not None and len(start) == len(w) else w * 0.5
    best, best_lam = float("inf"), lam.copy()
    theta, stall = 1.0, 0
    for _ in range(max_steps):
        inner, x = _inner(cov_t @ lam, inst, order, starts)
        value = float((w - lam).sum()) + inner
        if not np.isfinite(best) or value < best - 1e-12 * best:
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= 15:
                theta, stall = theta / 2, 0
        if best <= lower * (1 + 1e-9) or theta < 1e-4 or time.perf_counter() > deadline:
            break
        # d L / d l_i = (sum_j a_ij x_j) - 1 (y_i = 1 wherever l_i < w_i; 0 at l_i = w_i).
        sub = cov @ x - (lam < w)
        norm = float(sub @ sub)
        if norm <= 0:
            break
        step = theta * max(value - lower, 1e-9 * max(1.0, value)) / norm
        lam = np.clip(lam - step * sub, 0.0, w)
    return best * (1 + BOUND_SLACK) + BOUND_SLACK, best_lam
