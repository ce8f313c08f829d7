"""The optimiser on small instances whose optimum is found here by enumeration."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from cityops.planner.lagrange import lagrangian_bound
from cityops.planner.model import SECTORS, Candidate, CoverageMatrix, DemandPoint
from cityops.planner.optimize import coverage_curve, solve
from cityops.planner.reduction import reduce

PRIORITY = {"safety": 1.0, "transport": 0.5, "disasters": 2.0}


def matrix(
    cover: list[list[int]],
    weights: list[tuple[float, float, float]],
    costs: list[float],
    sites: list[str],
    already: Sequence[int] = (),
) -> CoverageMatrix:
    """``cover[j]``: the points candidate j sees."""
    n = len(weights)
    rows = [i for col in cover for i in col]
    cols = [j for j, col in enumerate(cover) for _ in col]
    points = tuple(
        DemandPoint(f"p{i}", float(i), 0.0, dict(zip(SECTORS, w, strict=True)), "x", "t")
        for i, w in enumerate(weights)
    )
    done = np.zeros(n, dtype=bool)
    done[list(already)] = True
    return CoverageMatrix(
        points=points,
        candidates=tuple(
            Candidate(s, "m", float(j), c)
            for j, (s, c) in enumerate(zip(sites, costs, strict=True))
        ),
        covers=sparse.csc_array(
            (np.ones(len(rows), dtype=bool), (rows, cols)), shape=(n, len(cover))
        ),
        weights=np.array(weights, dtype=np.float64).reshape(n, 3),
        already_covered=done,
    )


def brute(m: CoverageMatrix, budget: float, one_per_site: bool) -> float:
    w = m.weights @ np.array([PRIORITY[s] for s in SECTORS])
    dense = m.covers.toarray()
    best = float(w[m.already_covered].sum())
    n = len(m.candidates)
    for k in range(1, n + 1):
        for combo in itertools.combinations(range(n), k):
            if sum(m.candidates[j].cost for j in combo) > budget + 1e-9:
                continue
            sites = [m.candidates[j].site_id for j in combo]
            if one_per_site and len(set(sites)) < len(sites):
                continue
            hit = m.already_covered | dense[:, list(combo)].any(axis=1)
            best = max(best, float(w[hit].sum()))
    return best


def test_one_camera_per_site_unless_allowed() -> None:
    # Two headings at site A see disjoint halves; site B sees a little.
    m = matrix(
        [[0, 1], [2, 3], [4]],
        [(1, 0, 0)] * 5,
        [1.0, 1.0, 1.0],
        ["A", "A", "B"],
    )
    plan = solve(m, PRIORITY, 2.0, method="exact")
    assert plan.objective == 3.0
    assert sorted(c.candidate.site_id for c in plan.chosen) == ["A", "B"]
    free = solve(m, PRIORITY, 2.0, one_per_site=False, method="exact")
    assert free.objective == 4.0
    assert [c.candidate.site_id for c in free.chosen] == ["A", "A"]


def test_existing_coverage_counts_and_earns_nothing() -> None:
    # Candidate 0 sees points 0-2, all already covered; candidate 1 sees point 3 only.
    m = matrix([[0, 1, 2], [3]], [(1, 0, 0)] * 4, [1.0, 1.0], ["A", "B"], already=[0, 1, 2])
    plan = solve(m, PRIORITY, 1.0)
    assert plan.baseline == 3.0
    assert plan.objective == 4.0
    assert [c.candidate.site_id for c in plan.chosen] == ["B"]
    assert plan.covered_before["safety"] == 3.0
    assert plan.covered_after["safety"] == 4.0


def test_marginal_gains_per_sector_add_up() -> None:
    m = matrix(
        [[0, 1], [1, 2], [3]],
        [(1, 0, 0), (0, 2, 0), (0, 0, 1), (3, 1, 0)],
        [1.0, 1.0, 1.0],
        ["A", "B", "C"],
    )
    plan = solve(m, PRIORITY, 3.0)
    assert plan.objective == pytest.approx(1 + 1 + 2 + 3.5)
    for s in SECTORS:
        added = sum(c.gain[s] for c in plan.chosen)
        assert added == pytest.approx(plan.covered_after[s] - plan.covered_before[s])
    gains = [c.gain_weighted for c in plan.chosen]
    assert gains == sorted(gains, reverse=True)
    assert sum(gains) == pytest.approx(plan.objective - plan.baseline)
    assert plan.chosen[0].candidate.site_id == "C"  # 3.5 first
    assert plan.proven_optimal


def test_bad_budgets_and_priorities_refused() -> None:
    m = matrix([[0]], [(1, 0, 0)], [5.0], ["A"])
    with pytest.raises(ValueError, match="below the cheapest camera"):
        solve(m, PRIORITY, 4.0)
    with pytest.raises(ValueError, match="unknown sectors"):
        solve(m, {"parking": 1.0}, 10.0)
    with pytest.raises(ValueError, match=">= 0"):
        solve(m, {"safety": -1.0}, 10.0)
    with pytest.raises(ValueError, match="unknown method"):
        solve(m, PRIORITY, 10.0, method="magic")


def test_coverage_curve_rises_with_budget() -> None:
    m = matrix(
        [[0, 1, 2], [2, 3], [4], [5, 6]], [(1, 1, 1)] * 7, [2.0, 1.0, 1.0, 3.0], list("ABCD")
    )
    curve = coverage_curve(m, PRIORITY, [7.0, 0.5, 1.0, 3.0, 5.0])
    assert [p.budget for p in curve] == [0.5, 1.0, 3.0, 5.0, 7.0]
    values = [p.objective for p in curve]
    assert values == sorted(values)
    assert curve[0].cameras == 0
    assert curve[-1].objective == pytest.approx(7 * 3.5)
    assert all(p.cost <= p.budget for p in curve)


@st.composite
def instances(draw: st.DrawFn) -> tuple[CoverageMatrix, float, bool]:
    n_points = draw(st.integers(1, 9))
    n_cands = draw(st.integers(1, 7))
    cover = [
        draw(st.lists(st.integers(0, n_points - 1), max_size=n_points, unique=True))
        for _ in range(n_cands)
    ]
    weights = [
        (draw(st.sampled_from([0.0, 1.0, 2.5])), draw(st.sampled_from([0.0, 1.0])), 0.0)
        for _ in range(n_points)
    ]
    costs = [draw(st.sampled_from([1.0, 2.0, 3.0])) for _ in range(n_cands)]
    sites = [draw(st.sampled_from("ABCD")) for _ in range(n_cands)]
    already = draw(st.lists(st.integers(0, n_points - 1), max_size=2, unique=True))
    budget = draw(st.sampled_from([3.0, 4.0, 6.0]))
    return matrix(cover, weights, costs, sites, already), budget, draw(st.booleans())


@settings(max_examples=80, deadline=None)
@given(instances())
def test_exact_matches_enumeration_and_bounds_hold(
    case: tuple[CoverageMatrix, float, bool],
) -> None:
    m, budget, one_per_site = case
    best = brute(m, budget, one_per_site)
    exact = solve(m, PRIORITY, budget, one_per_site=one_per_site, method="exact")
    assert exact.objective == pytest.approx(best)
    assert exact.proven_optimal
    fast = solve(m, PRIORITY, budget, one_per_site=one_per_site, method="heuristic")
    assert fast.objective <= best + 1e-9
    assert fast.upper_bound >= best - 1e-9
    for plan in (exact, fast):
        assert plan.cost <= budget + 1e-9
        sites = [c.candidate.site_id for c in plan.chosen]
        if one_per_site:
            assert len(set(sites)) == len(sites)


@settings(max_examples=80, deadline=None)
@given(instances(), st.integers(1, 300))
def test_lagrangian_bound_is_an_upper_bound(
    case: tuple[CoverageMatrix, float, bool], steps: int
) -> None:
    """Whatever the number of subgradient steps, the bound is never below the optimum."""
    m, budget, one_per_site = case
    best = brute(m, budget, one_per_site)
    red = reduce(m, PRIORITY, budget, one_per_site)
    baseline = float(red.point_weight[m.already_covered].sum())
    bound, _ = lagrangian_bound(red.inst, lower=0.0, max_steps=steps)
    assert baseline + bound >= best - 1e-9


def test_lagrangian_path_used_when_the_lp_is_too_large(monkeypatch: pytest.MonkeyPatch) -> None:
    from cityops.planner import optimize

    m = matrix([[0, 1, 2], [2, 3], [4], [5, 6], [0, 6]], [(1, 1, 1)] * 7, [1.0] * 5, list("ABCDE"))
    monkeypatch.setattr(optimize, "LP_NNZ", 0)
    plan = solve(m, PRIORITY, 2.0, method="heuristic")
    assert any("Lagrangian" in n for n in plan.notes)
    assert plan.objective == pytest.approx(5 * 3.5)
    assert plan.upper_bound >= plan.objective
    assert plan.gap == pytest.approx(1 - plan.objective / plan.upper_bound, abs=1e-6)
    curve = coverage_curve(m, PRIORITY, [1.0, 2.0, 3.0], method="heuristic")
    assert [p.objective for p in curve] == pytest.approx([3 * 3.5, 5 * 3.5, 6 * 3.5])
    assert all(p.upper_bound >= p.objective for p in curve)
