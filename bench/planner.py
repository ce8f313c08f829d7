"""Camera network planner: time and quality against size (docs/BENCHMARKS.md, "Planner").

    python -m bench.planner                       # classic instances + the synthetic town
    python -m bench.planner --only classic        # Swain / SJC settings only
    python -m bench.planner --only town --points 20000 --sites 1334 --visibility vector

Classic: for each Swain/SJC setting, HiGHS's exact optimum and the heuristic (lazy greedy + LP
rounding + swaps) with its time and its ratio to the optimum. Town: a synthetic grid town
(blocks of buildings, streets between), ``--points`` demand points on the streets,
``--sites`` mounting sites x 12 headings of a 60-degree, 80 m camera; visibility by both
methods (vector and raster), then the plan under a budget of ``--cameras`` cameras with its
proven gap. Reads the classic files from $CITYOPS_SHARED_DATA or ../shared/data (skipped with a
reason when absent). One JSON document on stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
from shapely.geometry import box

from cityops.planner.coverage import coverage_matrix
from cityops.planner.mclp import read_instance, solve_mclp
from cityops.planner.model import CameraModel, DemandPoint, Site
from cityops.planner.optimize import solve
from cityops.planner.visibility import Obstacles, candidates_for

CLASSIC = [
    ("swain55.txt", 5, 2),
    ("swain55.txt", 8, 8),
    ("swain55.txt", 10, 4),
    ("SJC/SJC324.txt", 150, 10),
    ("SJC/SJC324.txt", 250, 10),
    ("SJC/SJC402.txt", 200, 20),
    ("SJC/SJC500.txt", 200, 20),
    ("SJC/SJC708.txt", 250, 30),
    ("SJC/SJC818.txt", 200, 40),
    ("SJC/SJC818.txt", 300, 20),
]
PRIORITY = {"safety": 1.0, "transport": 0.7, "disasters": 0.5}


def shared_data() -> Path:
    env = os.environ.get("CITYOPS_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


def classic() -> list[dict[str, object]] | str:
    root = shared_data() / "mclp"
    if not root.is_dir():
        return f"skipped: {root} not found (set CITYOPS_SHARED_DATA)"
    out: list[dict[str, object]] = []
    for name, radius, p in CLASSIC:
        inst = read_instance(root / name)
        exact = solve_mclp(inst, radius, p, exact=True)
        fast = solve_mclp(inst, radius, p)
        out.append(
            {
                "instance": inst.name,
                "radius": radius,
                "p": p,
                "optimum": exact.covered,
                "exact_optimal": exact.optimal,
                "exact_s": round(exact.seconds, 3),
                "heuristic": fast.covered,
                "heuristic_ratio": round(fast.covered / exact.covered, 5),
                "heuristic_stated_gap": round(fast.gap, 5),
                "heuristic_s": round(fast.seconds, 3),
            }
        )
    return out


def town(
    n_points: int, n_sites: int, seed: int = 7
) -> tuple[list[DemandPoint], list[Site], list[object]]:
    """A grid town: 80 m blocks, each holding 4 buildings (15% are open squares), 20 m streets;
    30% of the points in the squares, the rest on the streets; sites at junctions first, then
    along the streets."""
    rng = np.random.default_rng(seed)
    pitch, street = 100.0, 20.0
    side = max(4, int(np.ceil(np.sqrt(n_points * 9.0 / (2 * pitch)))))  # ~1 point per 9 m
    buildings = []
    squares: list[tuple[float, float]] = []
    for i in range(side):
        for j in range(side):
            x0, y0 = i * pitch + street / 2, j * pitch + street / 2
            if rng.random() < 0.15:  # an open square: no buildings, people in it
                squares.append((x0, y0))
                continue
            for a, b in ((0, 0), (1, 0), (0, 1), (1, 1)):
                bx, by = x0 + a * 41 + 2, y0 + b * 41 + 2
                buildings.append(box(bx, by, bx + 35 + rng.uniform(0, 2), by + 35))
    extent = side * pitch
    points: list[DemandPoint] = []
    for k in range(n_points):
        if squares and rng.random() < 0.3:
            sx, sy = squares[int(rng.integers(0, len(squares)))]
            x, y = sx + rng.uniform(0, pitch - street), sy + rng.uniform(0, pitch - street)
        else:
            along = rng.uniform(0, extent)
            line = rng.integers(0, side + 1) * pitch
            off = rng.uniform(-street / 2 + 1, street / 2 - 1)
            x, y = (along, line + off) if k % 2 else (line + off, along)
        hot = rng.random() < 0.05
        w = {
            "safety": float(rng.uniform(0, 1) + (5 if hot else 0)),
            "transport": float(rng.uniform(0, 1)),
            "disasters": float(rng.uniform(0, 0.5)),
        }
        points.append(DemandPoint(f"p{k}", x, y, w, "hotspot" if hot else "street", "bench"))
    sites: list[Site] = []
    for i in range(side + 1):
        for j in range(side + 1):
            if len(sites) < n_sites:
                sites.append(Site(f"j{i}-{j}", i * pitch, j * pitch, "junction", 0.0, 0.0))
    while len(sites) < n_sites:
        k = len(sites)
        line = rng.integers(0, side + 1) * pitch
        along = rng.uniform(0, extent)
        x, y = (along, line + street / 2 - 1) if k % 2 else (line + street / 2 - 1, along)
        sites.append(Site(f"s{k}", x, y, "street", 0.0, 0.0))
    return points, sites, buildings


def bench_town(
    n_points: int, n_sites: int, cameras: int, methods: tuple[str, ...] = ("vector", "raster")
) -> dict[str, object]:
    built = time.perf_counter()
    points, sites, buildings = town(n_points, n_sites)
    model = CameraModel("fixed60", fov_deg=60.0, range_m=80.0, cost=1000.0, ptz=False)
    obs = Obstacles(buildings)
    prep_s = time.perf_counter() - built
    result: dict[str, object] = {
        "points": len(points),
        "sites": len(sites),
        "candidates": len(candidates_for(sites, [model])),
        "buildings": len(buildings),
        "obstacles_prepare_s": round(prep_s, 3),
    }
    matrices = {}
    seconds: dict[str, float] = {}
    for method in methods:
        started = time.perf_counter()
        m = coverage_matrix(points, sites, [model], obs, method=method)
        seconds[method] = time.perf_counter() - started
        result[f"visibility_{method}_s"] = round(seconds[method], 3)
        matrices[method] = m
    m = matrices[methods[0]]
    result["matrix_nnz"] = int(m.covers.nnz)
    if "vector" in matrices and "raster" in matrices:
        diff = matrices["vector"].covers != matrices["raster"].covers
        result["raster_vs_vector_differing_pairs"] = int(diff.nnz)
    plan = solve(m, PRIORITY, cameras * 1000.0, time_limit_s=25.0)
    result.update(
        {
            "budget_cameras": cameras,
            "solve_s": round(plan.seconds, 3),
            "method": plan.method,
            "objective": round(plan.objective, 3),
            "upper_bound": round(plan.upper_bound, 3),
            "gap": round(plan.gap, 6),
            "chosen": len(plan.chosen),
            "total_s": round(prep_s + seconds[methods[0]] + plan.seconds, 3),
            "notes": list(plan.notes),
        }
    )
    fast = solve(m, PRIORITY, cameras * 1000.0, method="heuristic", time_limit_s=25.0)
    result["heuristic_only"] = {
        "solve_s": round(fast.seconds, 3),
        "gap": round(fast.gap, 6),
        "objective": round(fast.objective, 3),
    }
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["classic", "town"], default=None)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--sites", type=int, default=1334, help="x 12 headings = candidates")
    parser.add_argument("--cameras", type=int, default=150)
    parser.add_argument(
        "--visibility",
        default="vector,raster",
        help="line-of-sight methods to time; the first one's matrix is planned on",
    )
    args = parser.parse_args()
    out: dict[str, object] = {}
    if args.only in (None, "classic"):
        out["classic"] = classic()
    if args.only in (None, "town"):
        methods = tuple(m for m in args.visibility.split(",") if m)
        out["town"] = bench_town(args.points, args.sites, args.cameras, methods)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
