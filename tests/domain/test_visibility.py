"""Cameras that see a place: field-of-view sectors in metres, nearest first."""

from __future__ import annotations

import pytest

from cityops.domain.entities import Camera, LonLat
from cityops.domain.geo import LocalProjection, angle_between, bearing_deg
from cityops.domain.visibility import cameras_seeing

CENTER = LonLat(25.3925, 42.6194)
PROJ = LocalProjection(CENTER)


def camera(
    cid: str, dx: float, dy: float, heading: float, fov: float = 90.0, range_m: float = 200.0
) -> Camera:
    return Camera(cid, "m", cid, PROJ.to_lonlat(dx, dy), heading, fov, range_m)


def test_projection_is_metric_around_the_centre() -> None:
    east = PROJ.to_lonlat(1000.0, 0.0)
    assert PROJ.distance_m(CENTER, east) == pytest.approx(1000.0, abs=0.01)
    x, y = PROJ.to_xy(CENTER)
    assert (round(x, 6), round(y, 6)) == (0.0, 0.0)


def test_bearings_and_angles() -> None:
    assert bearing_deg(0, 1) == 0.0
    assert bearing_deg(1, 0) == 90.0
    assert bearing_deg(0, -1) == 180.0
    assert bearing_deg(-1, 0) == 270.0
    assert angle_between(350, 10) == 20.0
    assert angle_between(10, 190) == 180.0


def test_cameras_facing_the_place_within_range_nearest_first() -> None:
    cams = [
        camera("west-facing-east", -100, 0, 90),  # 100 m, dead on
        camera("north-facing-south", 0, 150, 180),  # 150 m, dead on
        camera("west-facing-north", -50, 0, 0),  # place is 90 deg off axis, fov 90: outside
        camera("far-east-facing-west", 300, 0, 270),  # out of its 200 m range
        camera("edge", -100, -100, 0, fov=92.0),  # place at bearing 45: 1 degree inside
        camera("just-outside", -100, -100, 0, fov=88.0),  # 1 degree outside
        camera("dome", 20, 0, 0, fov=360.0, range_m=50),  # a 360-degree dome 20 m away
    ]
    views = cameras_seeing(CENTER, cams, PROJ)
    assert [v.camera_id for v in views] == [
        "dome",
        "west-facing-east",
        "edge",
        "north-facing-south",
    ]
    assert views[1].distance_m == pytest.approx(100.0, abs=0.01)
    assert views[1].off_axis_deg == pytest.approx(0.0, abs=0.01)
    assert views[2].off_axis_deg == pytest.approx(45.0, abs=0.01)


def test_heading_wraps_around_north() -> None:
    cam = camera("north-ish", 0, -100, 350, fov=40)  # looks 330..10 degrees; place at 0
    assert [v.camera_id for v in cameras_seeing(CENTER, [cam], PROJ)] == ["north-ish"]
    cam2 = camera("too-far-left", 0, -100, 320, fov=40)  # 300..340: misses 0
    assert cameras_seeing(CENTER, [cam2], PROJ) == []
