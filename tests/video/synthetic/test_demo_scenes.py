"""The demo's analytics blocks fit the scenes the demo renders: the counting line sees traffic
both ways, the junction zone holds the accident's cars for minutes and nothing else stops
there, the yard zone holds the intruder and not the passers-by on the pavement."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon

from cityops.config import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import CameraAnalytics, LineDirection, ObjectClass
from cityops.domain.catalog import MunicipalityConfig
from cityops.video.synthetic import SyntheticScene

from .support import demo_camera


@pytest.fixture(scope="module")
def demo() -> MunicipalityConfig:
    return load_config(DEMO_CONFIG)


def _analysed(demo: MunicipalityConfig, camera_id: str) -> tuple[CameraAnalytics, SyntheticScene]:
    """The camera's analytics and the scene the demo shows for it."""
    camera, scene = demo_camera(demo, camera_id)
    assert camera.analytics is not None
    return camera.analytics, scene


@pytest.mark.parametrize("camera_id", ["cam-rozova-23polk-nw", "cam-rozova-23polk-se"])
def test_the_crossing_cameras_count_both_ways_and_see_the_accident_stop(
    demo: MunicipalityConfig, camera_id: str
) -> None:
    analytics, scene = _analysed(demo, camera_id)
    (line,) = analytics.lines
    assert {demo.sensor(s) is not None for s in line.sensors.values()} == {True}
    accident = scene.script_starts(0.0, 7200.0)[0]
    quiet = (accident - 900.0, accident - 300.0)
    counts = scene.crossing_counts(line.a, line.b, *quiet, line.classes)
    assert counts[LineDirection.FORWARD] >= 20
    assert counts[LineDirection.BACKWARD] >= 20

    (junction,) = analytics.zones
    assert junction.stopped_s is not None
    zone = Polygon(junction.polygon)
    during = accident + 10.0 + junction.stopped_s + 5.0
    stopped = [
        o for o in scene.truth_at(during) if o.cls is ObjectClass.VEHICLE and o.speed_mps == 0.0
    ]
    assert len(stopped) == 2
    for car in stopped:  # whether the pipeline takes the foot point or the box's bottom
        assert zone.contains(Point(car.foot))
        assert zone.contains(Point(car.box.foot))
    # in quiet times no vehicle is in the zone long enough to count as stopped
    dwell = scene.dwell(junction.polygon, *quiet, {ObjectClass.VEHICLE})
    assert dwell
    assert max(dwell.values()) < junction.stopped_s


@pytest.mark.parametrize("camera_id", ["cam-eg-yard", "cam-dg-iztok"])
def test_the_yard_zone_holds_the_intruder_and_not_the_passers_by(
    demo: MunicipalityConfig, camera_id: str
) -> None:
    analytics, scene = _analysed(demo, camera_id)
    (yard,) = analytics.zones
    assert yard.loiter_s is not None
    start = scene.script_starts(0.0, 7200.0)[0]
    dwell = scene.dwell(yard.polygon, start - 1200.0, start + 300.0, {ObjectClass.PERSON})
    assert len(dwell) == 1  # the intruder, not the people on the pavement outside the fence
    assert max(dwell.values()) > 2 * yard.loiter_s
