"""A Lagrangian upper bound for budgeted maximal covering, for instances whose LP relaxation
does not solve in time (docs/PLANNER.md "Optimisation").

The coverage constraints ``y_i <= sum_{j covers i} x_j`` are moved into the objective with
multipliers ``0 <= l_i <= w_i``:

    L(l) = sum_i (w_i - l_i) + max { sum_j g_j x_j : budget, one per site, 0 <= x <= 1 },
    g_j  = sum_{i covered by j} l_i.

For any such ``l``, ``L(l)`` is an upper bound of the covering optimum. The inner maximum is
bounded from above by a fractional knapsack in which each site may hold at most one candidate
*per cost* (a relaxation of one per site, so the bound stays valid), and ``l`` is improved by
subgradient steps (Polyak's rule, the step halved when the bound stalls for ``patience``
steps, each direction deflected by ``deflect`` times the previous one as Camerini, Fratta and
Maffioli propose: on town instances it reaches a given bound in about half the steps). Every
value returned is a bound whatever the number of steps; more steps make it tighter.
"""

from __future__ import annotations

import time

import numpy as np
from scipy import sparse

from cityops.planner.bounds import BOUND_SLACK, Covering, FloatArray, IntArray


class _Groups:
    """Candidates sorted by (site, cost) group; a candidate free of the one-per-site rule is a
    group of its own."""

    def __init__(self, inst: Covering) -> None:
        n = inst.covers.shape[1]
        site = np.where(inst.site >= 0, inst.site, -1 - np.arange(n))
        self.order: IntArray = np.lexsort((inst.cost, site))
        key_site, key_cost = site[self.order], inst.cost[self.order]
        new = np.ones(n, dtype=bool)
        new[1:] = (key_site[1:] != key_site[:-1]) | (key_cost[1:] != key_cost[:-1])
        self.starts: IntArray = np.flatnonzero(new)
        self.group_of: IntArray = np.cumsum(new) - 1
        self.cost: FloatArray = key_cost[self.starts]


def _inner(g: FloatArray, inst: Covering, groups: _Groups) -> tuple[float, FloatArray]:
    """The fractional knapsack over the groups' best candidates: its value and an x."""
    sorted_g = g[groups.order]
    best_val = np.maximum.reduceat(sorted_g, groups.starts)
    # The first candidate reaching its group's maximum represents the group.
    idx = np.flatnonzero(sorted_g >= best_val[groups.group_of])
    gidx = groups.group_of[idx]
    firsts = np.ones(len(idx), dtype=bool)
    firsts[1:] = gidx[1:] != gidx[:-1]
    rep = np.empty(len(groups.starts), dtype=np.intp)
    rep[gidx[firsts]] = groups.order[idx[firsts]]
    cost = groups.cost
    pick = np.flatnonzero(best_val > 0)
    ratio = best_val[pick] / np.where(cost[pick] > 0, cost[pick], 1e-300)
    pick = pick[np.argsort(-ratio, kind="stable")]
    x = np.zeros(inst.covers.shape[1])
    csum = np.cumsum(cost[pick])
    full = int(np.searchsorted(csum, inst.budget + 1e-9, side="right"))
    x[rep[pick[:full]]] = 1.0
    value = float(best_val[pick[:full]].sum())
    if full < len(pick):
        k = pick[full]
        left = inst.budget - (float(csum[full - 1]) if full else 0.0)
        frac = max(0.0, left) / float(cost[k]) if cost[k] > 0 else 1.0
        x[rep[k]] = frac
        value += frac * float(best_val[k])
    return value, x


def lagrangian_bound(
    inst: Covering,
    *,
    lower: float,
    time_limit_s: float = 5.0,
    max_steps: int = 400,
    start: FloatArray | None = None,
    plan: IntArray | None = None,
    theta0: float = 2.0,
    patience: int = 10,
    deflect: float = 0.5,
) -> tuple[float, FloatArray]:
    """The best (lowest) bound found within the steps or time, and its multipliers (to start
    a related instance from, e.g. the next budget of a coverage curve). ``lower``: the value of
    a known plan (for the step size). Without ``start``, the multipliers start from ``plan``
    (chosen candidates) as the LP's duals would be: a point left uncovered is priced at its
    weight, a point covered twice or more at 0, a point covered once at half its weight."""
    deadline = time.perf_counter() + time_limit_s
    w = inst.weight
    if inst.covers.shape[1] == 0 or len(w) == 0:
        return 0.0, np.zeros(len(w))
    cov = sparse.csr_array(inst.covers, dtype=np.float64)
    cov_t = sparse.csr_array(cov.T)
    groups = _Groups(inst)
    if start is not None and len(start) == len(w):
        lam = np.clip(start, 0.0, w)
    elif plan is not None:
        count = np.asarray(inst.covers[:, plan].sum(axis=1)).ravel() if len(plan) else 0
        lam = np.where(count == 0, w, np.where(count == 1, w * 0.5, 0.0))
    else:
        lam = w * 0.5
    best, best_lam = float("inf"), lam.copy()
    theta, stall = theta0, 0
    direction = np.zeros(len(w))
    for _ in range(max_steps):
        inner, x = _inner(cov_t @ lam, inst, groups)
        value = float((w - lam).sum()) + inner
        if not np.isfinite(best) or value < best - 1e-12 * best:
            best, best_lam, stall = value, lam.copy(), 0
        else:
            stall += 1
            if stall >= patience:
                theta, stall = theta / 2, 0
        if best <= lower * (1 + 1e-9) or theta < 1e-4 or time.perf_counter() > deadline:
            break
        # d L / d l_i = (sum_j a_ij x_j) - 1 (y_i = 1 wherever l_i < w_i; 0 at l_i = w_i).
        sub = cov @ x - (lam < w)
        sub = direction = sub + deflect * direction
        norm = float(sub @ sub)
        if norm <= 0:
            break
        step = theta * max(value - lower, 1e-9 * max(1.0, value)) / norm
        lam = np.clip(lam - step * sub, 0.0, w)
    return best * (1 + BOUND_SLACK) + BOUND_SLACK, best_lam
