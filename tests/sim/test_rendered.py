"""The demo with rendered cameras: from now on the accident and the intruder are the scenes'
scripts (seen by the video worker in the pixels), not events the simulator publishes."""

from __future__ import annotations

import math
from collections import Counter
from datetime import timedelta

import pytest

from cityops.config import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import ObjectClass
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.scenes import SceneKind
from cityops.sim.clock import ManualWallClock
from cityops.sim.publisher import RecordingPublisher
from cityops.sim.rendered import RenderedScenario, counted_sensors, rendered
from cityops.sim.runner import demo_plan, demo_simulator
from cityops.sim.scenarios import ScenarioError
from cityops.video.synthetic import open_synthetic

from .conftest import NOW, make_config

COUNTERS = {
    "vehicles-23polk-nw-in",
    "vehicles-23polk-nw-out",
    "vehicles-23polk-se-in",
    "vehicles-23polk-se-out",
}


@pytest.fixture(scope="module")
def demo() -> MunicipalityConfig:
    return load_config(DEMO_CONFIG)


def test_the_rendered_plan_keeps_the_backfill_and_leaves_the_live_part_to_the_scenes(
    demo: MunicipalityConfig,
) -> None:
    names = {s.name for s in demo_plan(demo, NOW, rendered=True).scenarios}
    assert {"intrusion", "accident", "accident-rendered", "intrusion-rendered"} <= names
    assert "accident-live" not in names
    assert "accident-live" in {s.name for s in demo_plan(demo, NOW).scenarios}


def test_the_sim_schedule_is_the_scene_script_the_worker_renders(
    demo: MunicipalityConfig,
) -> None:
    scenario = rendered(demo, NOW, SceneKind.CROSSING)
    runs = scenario.runs(NOW, NOW + timedelta(hours=1))
    assert [c for _, c in runs] == ["cam-rozova-23polk-nw", "cam-rozova-23polk-se"] * 3
    assert {t.minute for t, _ in runs} == {10, 30, 50}
    assert list(scenario.events(NOW, NOW + timedelta(hours=1))) == []
    for at, camera_id in runs[:2]:
        camera = demo.camera(camera_id)
        assert camera is not None
        assert camera.demo_stream_url is not None
        scene = open_synthetic(camera.demo_stream_url)
        during = at.timestamp() + 60.0
        stopped = [
            o for o in scene.truth_at(during) if o.cls is ObjectClass.VEHICLE and o.speed_mps == 0
        ]
        assert len(stopped) == 2  # the two cars of the accident, in the pixels
        assert not [o for o in scene.truth_at(at.timestamp() - 60.0) if o.speed_mps == 0]


def test_the_counted_sensors_come_from_the_worker_once_the_scenes_run(
    demo: MunicipalityConfig,
) -> None:
    assert counted_sensors(demo) == COUNTERS
    wall = ManualWallClock(NOW)
    pub = RecordingPublisher()
    sim, _ = demo_simulator(demo, pub, speed=math.inf, wall=wall, rendered=True)
    sim.step()
    backfill = Counter(r.sensor_id for r in pub.readings if r.sensor_id in COUNTERS)
    assert set(backfill) == COUNTERS  # the history before the worker watched
    assert all(r.value < 60 for r in pub.readings if r.sensor_id in COUNTERS)  # per minute
    published = len(pub.readings)
    wall.advance(timedelta(minutes=45))
    sim.step()
    live = pub.readings[published:]
    assert live
    assert not [r for r in live if r.sensor_id in COUNTERS]


def test_the_live_accidents_and_intruders_come_only_from_the_worker(
    demo: MunicipalityConfig,
) -> None:
    wall = ManualWallClock(NOW)
    pub = RecordingPublisher()
    sim, plan = demo_simulator(demo, pub, speed=math.inf, wall=wall, rendered=True)
    sim.step()
    backfill = pub.events[:]
    assert [e for e in backfill if e.kind == "collision"]  # the accident half an hour ago
    wall.advance(timedelta(minutes=45))
    sim.step()
    (scenario,) = [s for s in plan.scenarios if s.name == "accident-rendered"]
    assert isinstance(scenario, RenderedScenario)
    assert len({t for t, _ in scenario.runs(NOW, NOW + timedelta(minutes=45))}) == 2
    live = pub.events[len(backfill) :]
    kinds = {"collision", "stopped_vehicle", "crowd", "person", "intrusion", "loitering"}
    assert not [e for e in live if e.kind in kinds]


def test_a_town_without_scripted_scenes_cannot_render_them() -> None:
    with pytest.raises(ScenarioError, match="no camera with analytics shows a scripted crossing"):
        rendered(make_config(), NOW, SceneKind.CROSSING)
    plan = demo_plan(make_config(), NOW, rendered=True)
    assert any("rendered" in note for note in plan.notes)
    assert not any(isinstance(s, RenderedScenario) for s in plan.scenarios)
