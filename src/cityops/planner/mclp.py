"""The classic maximal covering location problem (Church & ReVelle 1974) on published instance
files, to check the optimiser against known results (docs/PLANNER.md "Optimisation").

Formats (../shared/data/SOURCES.md, section mclp):

- Swain: a first line ``55``, then ``id x y demand`` per node.
- São José dos Campos (Lorena & Pereira 2002): a header ``n 9999 p S``, then ``x y demand``
  per node (nodes numbered from 1 in file order).

Every node is both a demand point and a candidate site; a node is covered by a site at
Euclidean distance at most ``radius``; ``p`` sites are opened.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.spatial import cKDTree

from cityops.planner.bounds import FloatArray
from cityops.planner.model import Candidate, CoverageMatrix, DemandPoint
from cityops.planner.optimize import solve


@dataclass(frozen=True)
class Instance:
    name: str
    ids: tuple[str, ...]
    xy: FloatArray
    demand: FloatArray


@dataclass(frozen=True)
class MclpResult:
    instance: str
    radius: float
    sites: int
    covered: float
    total: float
    upper_bound: float
    gap: float
    optimal: bool
    method: str
    chosen: tuple[str, ...]
    seconds: float

    def to_json(self) -> dict[str, object]:
        return {
            "instance": self.instance,
            "radius": self.radius,
            "sites": self.sites,
            "covered": self.covered,
            "total": self.total,
            "upper_bound": self.upper_bound,
            "gap": self.gap,
            "optimal": self.optimal,
            "method": self.method,
            "chosen": list(self.chosen),
            "seconds": round(self.seconds, 4),
        }


def read_instance(path: Path) -> Instance:
    """Read a Swain or SJC file; ValueError with the line number on anything malformed."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from exc
    lines = [(n, ln.split()) for n, ln in enumerate(text.splitlines(), 1) if ln.strip()]
    if not lines:
        raise ValueError(f"{path}: empty")
    head_no, head = lines[0]
    body = lines[1:]
    swain = len(head) == 1
    if not swain and len(head) != 4:
        raise ValueError(f"{path}:{head_no}: expected `n` or `n 9999 p S`")
    n = _number(path, head_no, head[0])
    if n != int(n) or n < 1 or len(body) != int(n):
        raise ValueError(f"{path}: header says {head[0]} nodes, {len(body)} lines follow")
    ids: list[str] = []
    rows: list[tuple[float, float, float]] = []
    for k, (no, f) in enumerate(body):
        if len(f) != (4 if swain else 3):
            raise ValueError(f"{path}:{no}: expected {'id x y demand' if swain else 'x y demand'}")
        vals = [_number(path, no, v) for v in (f[1:] if swain else f)]
        if vals[2] < 0:
            raise ValueError(f"{path}:{no}: negative demand")
        ids.append(f[0] if swain else str(k + 1))
        rows.append((vals[0], vals[1], vals[2]))
    arr = np.array(rows, dtype=np.float64)
    return Instance(path.stem, tuple(ids), arr[:, :2], arr[:, 2])


def _number(path: Path, no: int, text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise ValueError(f"{path}:{no}: {text!r} is not a number") from None
    if not math.isfinite(v):
        raise ValueError(f"{path}:{no}: {text!r} is not finite")
    return v


def covering_matrix(inst: Instance, radius: float) -> CoverageMatrix:
    """Every node a demand point (weight = its demand, sector "safety") and a candidate site."""
    if not math.isfinite(radius) or radius < 0:
        raise ValueError("the radius must be a finite number >= 0")
    tree = cKDTree(inst.xy)
    pairs = tree.query_pairs(radius * (1 + 1e-12), output_type="ndarray")
    n = len(inst.ids)
    r = np.concatenate([pairs[:, 0], pairs[:, 1], np.arange(n)])
    c = np.concatenate([pairs[:, 1], pairs[:, 0], np.arange(n)])
    covers = sparse.csc_array((np.ones(len(r), dtype=bool), (r, c)), shape=(n, n))
    points = tuple(
        DemandPoint(i, float(x), float(y), {"safety": float(d)}, "node", inst.name)
        for i, (x, y), d in zip(inst.ids, inst.xy, inst.demand, strict=True)
    )
    weights = np.zeros((n, 3))
    weights[:, 0] = inst.demand
    return CoverageMatrix(
        points=points,
        candidates=tuple(Candidate(i, "facility", None, 1.0) for i in inst.ids),
        covers=covers,
        weights=weights,
        already_covered=np.zeros(n, dtype=bool),
    )


def solve_mclp(
    inst: Instance, radius: float, sites: int, *, exact: bool = False, time_limit_s: float = 60.0
) -> MclpResult:
    """Open ``sites`` sites covering the most demand: the heuristic with its LP bound, or HiGHS's
    branch and bound (``exact``) started from the heuristic."""
    if sites < 1:
        raise ValueError("at least one site must be opened")
    started = time.perf_counter()
    matrix = covering_matrix(inst, radius)
    plan = solve(
        matrix,
        {"safety": 1.0},
        float(sites),
        method="exact" if exact else "heuristic",
        time_limit_s=time_limit_s,
    )
    return MclpResult(
        instance=inst.name,
        radius=float(radius),
        sites=sites,
        covered=plan.objective,
        total=plan.total,
        upper_bound=plan.upper_bound,
        gap=plan.gap,
        optimal=plan.proven_optimal,
        method=plan.method,
        chosen=tuple(sorted(c.candidate.site_id for c in plan.chosen)),
        seconds=time.perf_counter() - started,
    )


def run_mclp(path: Path, radius: float, sites: int, *, exact: bool = False) -> MclpResult:
    """``cityops plan mclp FILE --radius R --sites P [--exact]``."""
    return solve_mclp(read_instance(path), radius, sites, exact=exact)
