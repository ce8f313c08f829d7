"""Visibility on hand-made geometry whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, Polygon, box

from cityops.planner.coverage import coverage_matrix
from cityops.planner.model import CameraModel, Candidate, DemandPoint, ExistingCamera, Site
from cityops.planner.visibility import Obstacles, candidates_for, sightlines, view_polygon

METHODS = ["vector", "raster"]
FIXED = CameraModel("fixed", fov_deg=60.0, range_m=50.0, cost=1000.0, ptz=False)
PTZ = CameraModel("ptz", fov_deg=60.0, range_m=50.0, cost=3000.0, ptz=True)


def point(pid: str, x: float, y: float) -> DemandPoint:
    return DemandPoint(pid, x, y, {"safety": 1.0}, "street", "test")


def seen(
    obstacles: list[Polygon],
    pts: list[tuple[float, float]],
    method: str,
    heading: float = 0.0,
    fov: float = 60.0,
) -> list[bool]:
    """Which points a fixed camera at the origin (range 50 m) sees."""
    dps = [point(f"p{k}", x, y) for k, (x, y) in enumerate(pts)]
    site = Site("s", 0.0, 0.0, "user", 0.0, 0.0)
    model = CameraModel("m", fov, 50.0, 1.0, False, heading_step_deg=360.0)
    cands = [Candidate("s", "m", heading, 1.0)]
    m = coverage_matrix(dps, [site], [model], obstacles, method=method, candidates=cands)
    return [bool(v) for v in m.covers.toarray()[:, 0]]


@pytest.mark.parametrize("method", METHODS)
def test_a_building_hides_a_point(method: str) -> None:
    wall = box(-5, 10, 5, 14)  # across the view, between the camera and (0, 30)
    assert seen([], [(0, 30)], method) == [True]
    assert seen([wall], [(0, 30), (0, 8)], method) == [False, True]


@pytest.mark.parametrize("method", METHODS)
def test_just_outside_the_angle_or_the_range(method: str) -> None:
    # Heading north, 60 degrees wide: +-30 degrees. At 20 m, 30 degrees is x = 20*tan(30).
    inside = (20 * np.sin(np.radians(29.5)), 20 * np.cos(np.radians(29.5)))
    outside = (20 * np.sin(np.radians(30.5)), 20 * np.cos(np.radians(30.5)))
    assert seen([], [inside, outside, (0, 49.9), (0, 50.1), (0, -10)], method) == [
        True,
        False,
        True,
        False,
        False,
    ]


@pytest.mark.parametrize("method", METHODS)
def test_a_point_behind_a_corner(method: str) -> None:
    # An L-shaped street: a building fills the inner corner x in [5, 40], y in [5, 40].
    block = box(5, 5, 40, 40)
    # Looking north-east (120 degrees wide) from the origin: (30, 3) is on the street south of
    # the block, seen; (41, 20) is round the corner behind it; (3, 30) is on the western street.
    pts = [(30.0, 3.0), (41.0, 20.0), (3.0, 30.0)]
    assert seen([block], pts, method, heading=45.0, fov=120.0) == [
        True,
        False,
        True,
    ]


@pytest.mark.parametrize("method", METHODS)
def test_a_camera_on_a_wall_sees_along_it(method: str) -> None:
    house = box(0, -10, 10, 0)  # the camera sits on its north-west corner
    # Looking east, 180 degrees wide: along the west wall, along the north wall (2 m above it
    # at the far end: the raster is exact only beyond a cell or two), inside the house, and
    # past the house's far corner through it.
    pts = [(0.0, 20.0), (9.0, 2.0), (5.0, -5.0), (12.0, -5.0)]
    assert seen([house], pts, method, heading=90.0, fov=180.0) == [True, True, False, False]


def test_ptz_sees_the_full_circle_and_fixed_headings_step() -> None:
    site = Site("s", 0.0, 0.0, "pole", 0.0, 0.0)
    cands = candidates_for([site], [FIXED, PTZ])
    assert [c.heading_deg for c in cands] == [float(h) for h in range(0, 360, 30)] + [None]
    pts = [point(f"p{k}", 20 * np.sin(a), 20 * np.cos(a)) for k, a in enumerate(np.arange(8))]
    m = coverage_matrix(pts, [site], [FIXED, PTZ], [])
    cov = m.covers.toarray()
    assert cov[:, -1].all()  # PTZ
    assert cov[:, :-1].sum(axis=1).min() >= 1  # each point in some fixed heading


def test_existing_cameras_count_as_covered() -> None:
    pts = [point("a", 0, 20), point("b", 0, -20), point("c", 0, 40)]
    wall = box(-5, 25, 5, 30)
    cam = ExistingCamera(0.0, 0.0, heading_deg=0.0, fov_deg=90.0, range_m=50.0)
    m = coverage_matrix(pts, [], [FIXED], [wall], [cam])
    assert m.already_covered.tolist() == [True, False, False]


def test_view_polygon_has_the_shadow_cut_out() -> None:
    wall = box(-5, 10, 5, 14)
    poly = view_polygon(0.0, 0.0, 0.0, 60.0, 50.0, [wall])
    assert poly.contains(box(-1, 3, 1, 8))
    assert not poly.intersects(box(-1, 15, 1, 45))  # behind the wall
    assert poly.contains(box(18, 35, 20, 37))  # beside the shadow, still in the sector
    disc = view_polygon(0.0, 0.0, None, 60.0, 10.0, [])
    assert disc.area == pytest.approx(np.pi * 100, rel=0.01)


coord = st.floats(-40, 40, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(px=coord, py=coord, t=st.floats(0.3, 0.7), half=st.floats(1.0, 10.0))
def test_a_wall_between_always_hides(px: float, py: float, t: float, half: float) -> None:
    """A point in range is seen with no obstacle, and never once a wall crosses the line."""
    dist = float(np.hypot(px, py))
    if dist < 5.0:
        return
    pts = np.array([[px, py]])
    origin = np.zeros((1, 2))
    # A wall 1 m thick, perpendicular to the sight line, centred at fraction t of the way.
    ux, uy = px / dist, py / dist
    cx, cy = px * t, py * t
    corners = [
        (cx + a * ux + b * -uy, cy + a * uy + b * ux)
        for a, b in [(-0.5, -half), (0.5, -half), (0.5, half), (-0.5, half)]
    ]
    wall = Polygon(corners)
    for method in METHODS:
        free = sightlines(origin, pts, 100.0, Obstacles([]), method=method)
        assert free.visible.tolist() == [True]
        walled = sightlines(origin, pts, 100.0, Obstacles([wall]), method=method)
        assert walled.visible.tolist() == [False], method


@settings(max_examples=40, deadline=None)
@given(
    heading=st.sampled_from([0.0, 30.0, 90.0, 200.0, 330.0]),
    blocks=st.lists(
        st.tuples(st.floats(-40, 30), st.floats(-40, 30), st.floats(2, 12), st.floats(2, 12)),
        max_size=4,
    ),
    seed=st.integers(0, 1000),
)
def test_view_polygon_agrees_with_the_coverage_matrix(
    heading: float, blocks: list[tuple[float, float, float, float]], seed: int
) -> None:
    """What the map shows as seen is what the optimiser counts as covered (away from edges)."""
    houses = [box(x, y, x + w, y + h) for x, y, w, h in blocks]
    houses = [b for b in houses if not b.contains(Point(0, 0)) and b.distance(Point(0, 0)) > 0.5]
    rng = np.random.default_rng(seed)
    xy = rng.uniform(-45, 45, size=(60, 2))
    pts = [point(f"p{k}", float(x), float(y)) for k, (x, y) in enumerate(xy)]
    site = Site("s", 0.0, 0.0, "user", 0.0, 0.0)
    model = CameraModel("m", 90.0, 40.0, 1.0, False)
    m = coverage_matrix(
        pts, [site], [model], houses, candidates=[Candidate("s", "m", heading, 1.0)]
    )
    covered = m.covers.toarray()[:, 0]
    area = view_polygon(0.0, 0.0, heading, 90.0, 40.0, houses)
    for k, (x, y) in enumerate(xy):
        p = Point(x, y)
        if area.boundary.distance(p) < 0.3 or np.hypot(x, y) < 1.0:
            continue  # on an edge: either answer is right
        assert bool(covered[k]) == area.contains(p), (x, y)


def test_a_self_intersecting_outline_still_blocks() -> None:
    # A bow-tie (as found in map data): its two triangles still hide what is behind them.
    bowtie = Polygon([(-5, 10), (5, 20), (5, 10), (-5, 20)])
    assert not bowtie.is_valid
    # (2, 30) lies behind the right triangle; (0, 30) is seen through the waist (0, 15).
    assert seen([bowtie], [(2.0, 30.0), (0.0, 5.0)], "vector") == [False, True]
