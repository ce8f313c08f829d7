"""Lazy greedy and swap local search for budgeted maximal covering (docs/PLANNER.md
"Optimisation"). Works on the reduced instance of bounds.Covering."""

from __future__ import annotations

import heapq
import time

import numpy as np
from scipy import sparse

from cityops.planner.bounds import OPTIMAL_GAP, Covering, FloatArray, IntArray


def covered_value(inst: Covering, chosen: IntArray) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.zeros(inst.covers.shape[0], dtype=bool)
    for j in chosen:
        hit[inst.covers.indices[inst.covers.indptr[j] : inst.covers.indptr[j + 1]]] = True
    return float(inst.weight[hit].sum())


def lazy_greedy(inst: Covering, *, by_ratio: bool) -> IntArray:
    """Add, while the budget allows, the candidate adding the most weight (per unit of cost when
    ``by_ratio``). Gains only shrink as cover grows, so a stale heap entry is re-evaluated and
    pushed back instead of recomputing every candidate (Minoux's lazy evaluation)."""
    ptr, idx, w = inst.covers.indptr, inst.covers.indices, inst.weight
    covered = np.zeros(inst.covers.shape[0], dtype=bool)
    used_sites: set[int] = set()
    spent = 0.0

    def score(j: int) -> float:
        r = idx[ptr[j] : ptr[j + 1]]
        g = float(w[r[~covered[r]]].sum())
        return g / float(inst.cost[j]) if by_ratio and inst.cost[j] > 0 else g

    first = sparse.csr_array(inst.covers.T, dtype=np.float64) @ w
    if by_ratio:
        first = first / np.where(inst.cost > 0, inst.cost, 1.0)
    heap = [(-float(v), j) for j, v in enumerate(first.tolist()) if v > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap:
        _, j = heapq.heappop(heap)
        if spent + inst.cost[j] > inst.budget + 1e-9 or int(inst.site[j]) in used_sites:
            continue
        fresh = score(j)
        if fresh <= 0:
            continue
        if heap and fresh < -heap[0][0] - 1e-12:
            heapq.heappush(heap, (-fresh, j))
            continue
        chosen.append(j)
        spent += float(inst.cost[j])
        covered[idx[ptr[j] : ptr[j + 1]]] = True
        if inst.site[j] >= 0:
            used_sites.add(int(inst.site[j]))
    return np.array(chosen, dtype=np.intp)


def local_search(inst: Covering, start: IntArray, *, time_limit_s: float = 5.0) -> IntArray:
    """Improve by 1-for-1 swaps (each chosen camera in turn replaced by the best candidate when
    that improves), then fill any budget left greedily; until a pass improves nothing or time
    runs out."""
    deadline = time.perf_counter() + time_limit_s
    cov = inst.covers
    rows = sparse.csr_array(cov)
    cov_t = sparse.csr_array(cov.T)
    chosen = [int(j) for j in start]
    count = np.zeros(cov.shape[0], dtype=np.int32)
    for j in chosen:
        count[cov.indices[cov.indptr[j] : cov.indptr[j + 1]]] += 1
    eps = 1e-9 * max(1.0, float(inst.weight.sum()))
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        spent = float(inst.cost[chosen].sum()) if chosen else 0.0
        gain_all = cov_t @ (inst.weight * (count == 0))
        site_used = _site_use(inst, chosen)
        for pos in range(len(chosen)):
            if time.perf_counter() >= deadline:
                break
            j = chosen[pos]
            r = cov.indices[cov.indptr[j] : cov.indptr[j + 1]]
            only = r[count[r] == 1]
            loss = float(inst.weight[only].sum())
            extra = _spread(rows, only, inst.weight[only], len(inst.cost))
            value = gain_all + extra - loss
            ok = inst.cost <= inst.budget - spent + inst.cost[j] + 1e-9
            ok &= (inst.site < 0) | (site_used[np.maximum(inst.site, 0)] == 0)
            ok |= (
                (inst.site == inst.site[j])
                & (inst.site >= 0)
                & (inst.cost <= inst.budget - spent + inst.cost[j] + 1e-9)
            )
            ok[chosen] = False
            if not ok.any():
                continue
            k = int(np.argmax(np.where(ok, value, -np.inf)))
            if value[k] > eps:
                count[r] -= 1
                count[cov.indices[cov.indptr[k] : cov.indptr[k + 1]]] += 1
                chosen[pos] = k
                improved = True
                spent += float(inst.cost[k] - inst.cost[j])
                gain_all = cov_t @ (inst.weight * (count == 0))
                site_used = _site_use(inst, chosen)
        filled = _fill(inst, chosen, count)
        improved = improved or filled
    return np.array(chosen, dtype=np.intp)


def _spread(rows: sparse.csr_array, which: IntArray, values: FloatArray, n: int) -> FloatArray:
    """``rows[which].T @ values`` without building a sliced matrix (this runs once per chosen
    camera per pass)."""
    if len(which) == 0:
        return np.zeros(n)
    starts, ends = rows.indptr[which], rows.indptr[which + 1]
    lens = ends - starts
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    cols = rows.indices[np.arange(int(lens.sum())) + offsets]
    return np.bincount(cols, weights=np.repeat(values, lens), minlength=n).astype(np.float64)


def _site_use(inst: Covering, chosen: list[int]) -> IntArray:
    use = np.zeros(int(inst.site.max(initial=-1)) + 1 or 1, dtype=np.intp)
    for j in chosen:
        if inst.site[j] >= 0:
            use[inst.site[j]] += 1
    return use


def _fill(inst: Covering, chosen: list[int], count: IntArray) -> bool:
    """Add the best affordable candidate while one adds anything."""
    cov = inst.covers
    cov_t = sparse.csr_array(cov.T)
    added = False
    while True:
        spent = float(inst.cost[chosen].sum()) if chosen else 0.0
        gain: FloatArray = cov_t @ (inst.weight * (count == 0))
        site_used = _site_use(inst, chosen)
        ok = inst.cost <= inst.budget - spent + 1e-9
        ok &= (inst.site < 0) | (site_used[np.maximum(inst.site, 0)] == 0)
        ok[chosen] = False
        if not ok.any():
            return added
        k = int(np.argmax(np.where(ok, gain, -np.inf)))
        if gain[k] <= 0:
            return added
        chosen.append(k)
        count[cov.indices[cov.indptr[k] : cov.indptr[k + 1]]] += 1
        added = True


def in_order(inst: Covering, order: IntArray) -> IntArray:
    """Take candidates in the given order while they fit and add something (e.g. by the LP
    relaxation's values, largest first), then fill what budget is left greedily."""
    ptr, idx = inst.covers.indptr, inst.covers.indices
    covered = np.zeros(inst.covers.shape[0], dtype=bool)
    count = np.zeros(inst.covers.shape[0], dtype=np.int32)
    used: set[int] = set()
    spent = 0.0
    chosen: list[int] = []
    for j in order:
        r = idx[ptr[j] : ptr[j + 1]]
        if spent + inst.cost[j] > inst.budget + 1e-9 or int(inst.site[j]) in used:
            continue
        if covered[r].all():
            continue
        chosen.append(int(j))
        spent += float(inst.cost[j])
        covered[r] = True
        count[r] += 1
        if inst.site[j] >= 0:
            used.add(int(inst.site[j]))
    _fill(inst, chosen, count)
    return np.array(chosen, dtype=np.intp)


def heuristic(
    inst: Covering,
    *,
    lp_x: FloatArray | None = None,
    bound: float | None = None,
    time_limit_s: float = 5.0,
    polish_rounds: int = 20,
    polish_s: float = 2.0,
    seed: int = 0,
) -> IntArray:
    """Lazy greedy (by ratio and plain), and rounding of the LP relaxation's ``lp_x`` when
    given, each improved by swaps; the best is then perturbed (a few cameras dropped, the
    budget refilled, swaps again) ``polish_rounds`` times (at most ``polish_s`` seconds), stopping
    early once it meets ``bound``. Seeded: the same instance gives the same plan unless the time
    limit cuts it short."""
    deadline = time.perf_counter() + time_limit_s
    starts = [lazy_greedy(inst, by_ratio=True), lazy_greedy(inst, by_ratio=False)]
    if lp_x is not None and len(lp_x) == inst.covers.shape[1]:
        starts.append(in_order(inst, np.argsort(-lp_x, kind="stable")))
    best: IntArray = np.zeros(0, dtype=np.intp)
    best_value = -1.0
    for start in starts:
        left = max(0.05, deadline - time.perf_counter())
        c = local_search(inst, start, time_limit_s=left)
        v = covered_value(inst, c)
        if v > best_value:
            best, best_value = c, v
    rng = np.random.default_rng(seed)
    stop = min(deadline, time.perf_counter() + polish_s)
    for _ in range(polish_rounds):
        if not len(best) or time.perf_counter() >= stop:
            break
        if bound is not None and best_value >= bound * (1 - OPTIMAL_GAP):
            break
        drop = rng.choice(len(best), size=min(len(best), int(rng.integers(1, 3))), replace=False)
        kept = [int(j) for k, j in enumerate(best) if k not in set(drop.tolist())]
        count = np.zeros(inst.covers.shape[0], dtype=np.int32)
        for j in kept:
            count[inst.covers.indices[inst.covers.indptr[j] : inst.covers.indptr[j + 1]]] += 1
        _fill_random(inst, kept, count, rng, avoid={int(best[k]) for k in drop})
        c = local_search(
            inst, np.array(kept, dtype=np.intp), time_limit_s=stop - time.perf_counter()
        )
        v = covered_value(inst, c)
        if v > best_value + 1e-12:
            best, best_value = c, v
    return best


def _fill_random(
    inst: Covering, chosen: list[int], count: IntArray, rng: np.random.Generator, avoid: set[int]
) -> None:
    """Refill the budget with one random useful candidate (not one just dropped), then greedily."""
    cov_t = sparse.csr_array(inst.covers.T)
    spent = float(inst.cost[chosen].sum()) if chosen else 0.0
    gain = cov_t @ (inst.weight * (count == 0))
    site_used = _site_use(inst, chosen)
    ok = (inst.cost <= inst.budget - spent + 1e-9) & (gain > 0)
    ok &= (inst.site < 0) | (site_used[np.maximum(inst.site, 0)] == 0)
    ok[chosen] = False
    ok[list(avoid)] = False
    if ok.any():
        k = int(rng.choice(np.flatnonzero(ok)))
        chosen.append(k)
        count[inst.covers.indices[inst.covers.indptr[k] : inst.covers.indptr[k + 1]]] += 1
    _fill(inst, chosen, count)
