from __future__ import annotations

import itertools
import math
import threading
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Municipality
from cityops.sim.clock import ManualWallClock, SimClock
from cityops.sim.publisher import RecordingPublisher
from cityops.sim.runner import SimProgress, Simulator, demo_plan, demo_simulator
from cityops.sim.scenarios import accident

from .conftest import CENTRE, NOW
from .helpers import series, simulate

TZ = ZoneInfo("Europe/Sofia")


def test_steps_publish_what_is_due_and_nothing_from_the_future(
    config: MunicipalityConfig,
) -> None:
    wall = ManualWallClock(NOW)
    clock = SimClock(backfill=timedelta(hours=1), speed=61.0, wall=wall)
    pub = RecordingPublisher()
    reports: list[SimProgress] = []
    sim = Simulator(config, pub, clock, seed=1, progress=reports.append)
    wall.advance(30.0)
    first = sim.step()
    assert first.sim_time == clock.start + timedelta(seconds=30 * 61)
    assert not first.live
    assert len(reports) == 3  # 30.5 simulated minutes in 15-minute chunks
    assert all(clock.start <= r.ts < first.sim_time for r in pub.readings)
    for _ in range(40):
        wall.advance(1.5)
        sim.step()
        assert all(r.ts <= wall() for r in pub.readings)
    assert reports[-1].live
    assert pub.flushes == 41
    assert sim.readings_published == len(pub.readings)


def test_each_sensor_reports_every_expected_interval(config: MunicipalityConfig) -> None:
    _, pub = simulate(config, [], NOW - timedelta(hours=3), NOW)
    for sensor in config.sensors:
        times = [r.ts for r in series(pub.readings, sensor.id)]
        interval = sensor.expected_interval_s or 60.0
        gaps = {(b - a).total_seconds() for a, b in itertools.pairwise(times)}
        assert gaps == {interval}, sensor.id
        assert len(times) == 3 * 3600 / interval
        assert len(set(times)) == len(times)


def test_the_same_seed_gives_the_same_readings_but_event_ids_are_new_each_run(
    config: MunicipalityConfig,
) -> None:
    scenarios = [accident(config, NOW - timedelta(minutes=10))]
    sim1, one = simulate(config, scenarios, NOW - timedelta(minutes=30), NOW, seed=5)
    sim2, two = simulate(config, scenarios, NOW - timedelta(minutes=30), NOW, seed=5)
    assert one.readings == two.readings
    assert [e.kind for e in one.events] == [e.kind for e in two.events]
    ids1, ids2 = {e.event_id for e in one.events}, {e.event_id for e in two.events}
    assert len(ids1) == len(one.events)
    assert not ids1 & ids2
    assert sim1.run_id != sim2.run_id


def test_run_until_stops_at_the_given_time(config: MunicipalityConfig) -> None:
    wall = ManualWallClock(NOW)
    clock = SimClock(backfill=timedelta(hours=2), speed=600.0, wall=wall)
    pub = RecordingPublisher()
    sim = Simulator(config, pub, clock, sleep=wall.advance)
    until = clock.start + timedelta(hours=1)
    report = sim.run(until=until)
    assert report.sim_time == until
    assert max(r.ts for r in pub.readings) < until


def test_run_stops_when_the_stop_event_is_set(config: MunicipalityConfig) -> None:
    wall = ManualWallClock(NOW)
    clock = SimClock(backfill=timedelta(minutes=10), speed=math.inf, wall=wall)
    stop = threading.Event()
    steps: list[SimProgress] = []

    def progress(p: SimProgress) -> None:
        steps.append(p)
        if len(steps) == 3:
            stop.set()

    sim = Simulator(config, RecordingPublisher(), clock, progress=progress, tick_s=0.001)
    sim.run(stop_event=stop)
    assert len(steps) == 3


def test_demo_plan_places_the_scenarios_in_the_backfill_window(
    config: MunicipalityConfig,
) -> None:
    plan = demo_plan(config, NOW)
    by_name = {s.name: s for s in plan.scenarios}
    assert set(by_name) == {
        "intrusion",
        "pollution",
        "flood",
        "accident",
        "outage",
        "accident-live",
    }
    assert not plan.notes
    local = {name: s.start.astimezone(TZ) for name, s in by_name.items()}
    assert (local["intrusion"].hour, local["intrusion"].minute) == (2, 30)
    assert (local["pollution"].hour, local["pollution"].minute) == (7, 30)
    assert by_name["flood"].end == NOW - timedelta(hours=1)
    assert by_name["accident"].start == NOW - timedelta(minutes=30)
    assert by_name["outage"].start < NOW < (by_name["outage"].end or NOW)
    assert by_name["accident-live"].start >= NOW
    for scenario in plan.scenarios:
        assert scenario.start >= NOW - timedelta(hours=26)
    assert any("flood" in line for line in plan.summary("Europe/Sofia"))


def test_demo_plan_leaves_out_what_the_municipality_cannot_stage() -> None:
    bare = MunicipalityConfig(Municipality("bare", "Bare", center=CENTRE))
    plan = demo_plan(bare, NOW)
    assert plan.scenarios == ()
    assert len(plan.notes) >= 4


def test_the_whole_demo_backfill_runs_and_fires_every_scenario(
    config: MunicipalityConfig,
) -> None:
    wall = ManualWallClock(NOW)
    pub = RecordingPublisher()
    sim, plan = demo_simulator(config, pub, speed=math.inf, wall=wall)
    sim.step()
    kinds = Counter(e.kind for e in pub.events)
    assert kinds["collision"] == 2
    assert kinds["person"] >= 5
    assert max(r.value for r in series(pub.readings, "tundzha-3")) > 2.8
    assert max(r.value for r in series(pub.readings, "aq-east-pm10")) > 70.0
    assert all(r.ts <= NOW for r in pub.readings)
    assert all(config.sensor(r.sensor_id) is not None for r in pub.readings)
    assert all(
        s.check_value(r.value) is None for r in pub.readings if (s := config.sensor(r.sensor_id))
    )
    # live: an accident 20 minutes after the start, while a sensor stays silent for a while
    wall.advance(timedelta(minutes=25))
    sim.step()
    assert Counter(e.kind for e in pub.events)["collision"] == 4
    assert plan.backfill == timedelta(hours=26)
