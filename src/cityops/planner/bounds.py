"""The maximal covering model in HiGHS: its LP relaxation (a proven upper bound) and the exact
mixed-integer solution (docs/PLANNER.md "Optimisation").

    maximise   sum_i w_i y_i
    subject to y_i <= sum_{j covers i} x_j        (a point counts once covered)
               sum_j c_j x_j <= B                 (budget)
               sum_{j at site s} x_j <= 1         (one camera per site, when asked)
               0 <= y_i <= 1,  x_j in {0, 1}      (x_j in [0, 1] for the relaxation)
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
from highspy import _core
from scipy import sparse

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Covering:
    """A reduced covering instance: aggregated points (rows) by candidate columns."""

    covers: sparse.csc_array
    """Boolean (points, candidates)."""
    weight: FloatArray
    cost: FloatArray
    site: IntArray
    """Each candidate's site number; -1 where a site may hold several cameras."""
    budget: float


@dataclass(frozen=True)
class HighsResult:
    objective: float
    """The best solution's value (the LP optimum for the relaxation)."""
    bound: float
    """Proven upper bound (the LP optimum, or the MIP's dual bound)."""
    chosen: IntArray
    """Candidates with x_j = 1 (empty for the relaxation)."""
    status: str


BOUND_SLACK = 1e-9
"""Relative slack added to HiGHS's bounds against its feasibility tolerances."""
OPTIMAL_GAP = 1e-6
"""A gap this small counts as closed (HiGHS's own tolerances are of this order)."""


def _model(inst: Covering, integer: bool) -> highspy.HighsLp:
    n_p, n_c = inst.covers.shape
    cov = sparse.csc_array(inst.covers, dtype=np.float64)
    blocks: list[sparse.csc_array] = [
        sparse.hstack([-cov, sparse.eye_array(n_p, format="csc")], format="csc"),
        sparse.csc_array(np.concatenate([inst.cost, np.zeros(n_p)])[None, :]),
    ]
    grouped = inst.site >= 0
    n_s = 0
    if grouped.any():
        sites, inv = np.unique(inst.site[grouped], return_inverse=True)
        n_s = len(sites)
        cols = np.flatnonzero(grouped)
        g = sparse.csc_array((np.ones(len(cols)), (inv, cols)), shape=(n_s, n_c + n_p))
        blocks.append(g)
    a = sparse.vstack(blocks, format="csc")
    a.sort_indices()
    lp = highspy.HighsLp()
    lp.num_col_ = n_c + n_p
    lp.num_row_ = n_p + 1 + n_s
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.col_cost_ = np.concatenate([np.zeros(n_c), inst.weight])
    lp.col_lower_ = np.zeros(n_c + n_p)
    lp.col_upper_ = np.ones(n_c + n_p)
    lp.row_lower_ = np.full(n_p + 1 + n_s, -highspy.kHighsInf)
    lp.row_upper_ = np.concatenate([np.zeros(n_p), [inst.budget], np.ones(n_s)])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr.astype(np.int32)
    lp.a_matrix_.index_ = a.indices.astype(np.int32)
    lp.a_matrix_.value_ = a.data
    lp.a_matrix_.num_col_ = n_c + n_p
    lp.a_matrix_.num_row_ = n_p + 1 + n_s
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n_c + [
            highspy.HighsVarType.kContinuous
        ] * n_p
    return lp


def _highs(time_limit_s: float, threads: int) -> _core._Highs:
    # The core class: highspy.Highs() prints HiGHS's banner on stdout before any option can
    # silence it (it would corrupt `cityops plan mclp`'s JSON); its extras are not needed here.
    h = _core._Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, float(time_limit_s)))
    h.setOptionValue("threads", threads)
    return h


def lp_relaxation(
    inst: Covering, *, time_limit_s: float = 60.0, threads: int = 1
) -> tuple[float, FloatArray] | None:
    """The LP relaxation's optimum (a proven upper bound) and its x values; None when not solved
    in time."""
    n_c = inst.covers.shape[1]
    if n_c == 0:
        return 0.0, np.zeros(0)
    h = _highs(time_limit_s, threads)
    h.passModel(_model(inst, integer=False))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    value = float(h.getInfo().objective_function_value)
    x = np.asarray(h.getSolution().col_value, dtype=np.float64)[:n_c]
    return value * (1 + BOUND_SLACK) + BOUND_SLACK, x


def solve_mip(
    inst: Covering,
    *,
    start: IntArray | None = None,
    time_limit_s: float = 20.0,
    rel_gap: float = 1e-9,
    threads: int = 1,
) -> HighsResult:
    """HiGHS branch and bound, started from ``start`` (candidates), within the time limit."""
    n_p, n_c = inst.covers.shape
    if n_c == 0:
        return HighsResult(0.0, 0.0, np.zeros(0, dtype=np.intp), "empty")
    h = _highs(time_limit_s, threads)
    h.setOptionValue("mip_rel_gap", rel_gap)
    h.passModel(_model(inst, integer=True))
    if start is not None and len(start):
        x = np.zeros(n_c + n_p)
        x[start] = 1.0
        covered = (inst.covers[:, start].sum(axis=1) > 0).astype(np.float64)
        x[n_c:] = covered
        sol = highspy.HighsSolution()
        sol.col_value = list(x)
        h.setSolution(sol)
    h.run()
    status = h.modelStatusToString(h.getModelStatus())
    info = h.getInfo()
    values = np.asarray(h.getSolution().col_value, dtype=np.float64)
    if len(values) < n_c:
        return HighsResult(0.0, float("inf"), np.zeros(0, dtype=np.intp), status)
    chosen = np.flatnonzero(values[:n_c] > 0.5)
    covered = np.asarray(inst.covers[:, chosen].sum(axis=1) > 0).ravel()
    objective = float(inst.weight[covered].sum())
    bound = float(info.mip_dual_bound)
    if not np.isfinite(bound):
        bound = float("inf")
    return HighsResult(objective, bound * (1 + BOUND_SLACK) + BOUND_SLACK, chosen, status)
