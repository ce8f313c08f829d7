from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.geo import projection_for
from cityops.domain.visibility import cameras_seeing
from cityops.sim.scenarios import (
    ScenarioError,
    accident,
    crossing_pairs,
    flood,
    intrusion,
    is_night,
    pollution,
    recurring_accidents,
    sensor_outage,
)

from .conftest import CENTRE, NOW
from .helpers import longest_run_above, max_rise_within, series, simulate

TZ = ZoneInfo("Europe/Sofia")
ACCIDENT_KINDS = {"collision", "stopped_vehicle", "crowd", "person"}


def test_flood_crosses_2_8_m_for_10_min_and_rises_0_3_m_in_30_min(
    config: MunicipalityConfig,
) -> None:
    start = NOW - timedelta(hours=7)
    scenario = flood(config, start)
    assert scenario.gauges == ("tundzha-1", "tundzha-2", "tundzha-3")  # west to east
    _, pub = simulate(config, [scenario], start - timedelta(hours=4), NOW)
    first_above: list[datetime] = []
    for gauge in scenario.gauges:
        levels = series(pub.readings, gauge)
        before = [r.value for r in levels if r.ts < start]
        assert min(before) >= 0.8
        assert max(before) <= 1.2
        assert 3.2 <= max(r.value for r in levels) <= 3.45
        assert longest_run_above(levels, 2.8) >= 10 * 60
        assert max_rise_within(levels, 30 * 60) > 0.3
        first_above.append(next(r.ts for r in levels if r.value > 2.8))
        after = [r.value for r in levels if r.ts >= scenario.end]
        assert after
        assert max(after) < 1.3
    assert first_above == sorted(first_above)
    assert first_above[1] - first_above[0] >= timedelta(minutes=15)  # downstream lags
    rain = series(pub.readings, "rain-1")
    assert max(r.value for r in rain if start - timedelta(hours=3) <= r.ts < start) > 0.2


def test_pollution_keeps_pm10_between_70_and_120_for_two_hours_at_each_station(
    config: MunicipalityConfig,
) -> None:
    start = NOW - timedelta(hours=4)
    scenario = pollution(config, start)
    assert set(scenario.sensors) == {"aq-centre-pm10", "aq-centre-pm25", "aq-east-pm10"}
    _, pub = simulate(config, [scenario], start - timedelta(hours=1), NOW)
    for station in ("aq-centre-pm10", "aq-east-pm10"):
        during = [
            r.value
            for r in series(pub.readings, station)
            if start <= r.ts < start + timedelta(hours=2)
        ]
        assert len(during) >= 115
        assert all(70.0 <= v <= 120.0 for v in during)
        later = [r.value for r in series(pub.readings, station) if r.ts > scenario.end]
        assert max(later) < 70.0
    pm25 = [
        r.value
        for r in series(pub.readings, "aq-centre-pm25")
        if start <= r.ts < start + timedelta(hours=2)
    ]
    assert all(35.0 <= v < 75.0 for v in pm25)


def test_accident_picks_the_closest_pair_that_both_see_their_midpoint(
    config: MunicipalityConfig,
) -> None:
    pairs = crossing_pairs(config)
    assert [p.cameras for p in pairs] == [("cam-east", "cam-west"), ("cam-n1", "cam-n2")]
    scenario = accident(config, NOW - timedelta(minutes=30))
    assert set(scenario.pair.cameras) == {"cam-east", "cam-west"}
    projection = projection_for(CENTRE)
    seeing = {
        v.camera_id for v in cameras_seeing(scenario.pair.midpoint, config.cameras, projection)
    }
    assert {"cam-east", "cam-west"} <= seeing
    assert projection.distance_m(scenario.pair.midpoint, CENTRE) < 1.0


def test_accident_events_come_from_both_cameras_within_two_minutes(
    config: MunicipalityConfig,
) -> None:
    start = NOW - timedelta(minutes=30)
    scenario = accident(config, start, cameras=("cam-n2", "cam-n1"))
    assert scenario.pair.cameras == ("cam-n2", "cam-n1")
    _, pub = simulate(config, [scenario], start - timedelta(minutes=5), NOW)
    events = pub.events
    for camera in ("cam-n1", "cam-n2"):
        kinds = {e.kind for e in events if e.source_id == camera}
        assert kinds == ACCIDENT_KINDS
    times = [e.ts for e in events]
    assert max(times) - min(times) <= timedelta(minutes=2)
    assert all(e.position == scenario.pair.midpoint for e in events)
    assert len({e.event_id for e in events}) == len(events)


def test_accident_with_cameras_that_do_not_share_a_view_is_refused(
    config: MunicipalityConfig,
) -> None:
    with pytest.raises(ScenarioError, match="do not both see"):
        accident(config, NOW, cameras=("cam-b1", "cam-b2"))
    with pytest.raises(ScenarioError, match="unknown cameras"):
        accident(config, NOW, cameras=("cam-west", "cam-nope"))


def test_recurring_accidents_every_20_minutes_at_crossing_pairs(
    config: MunicipalityConfig,
) -> None:
    scenario = recurring_accidents(config, NOW, seed=4)
    events = list(scenario.events(NOW - timedelta(hours=1), NOW + timedelta(hours=4)))
    collisions = sorted({e.ts.replace(microsecond=0) for e in events if e.kind == "collision"})
    starts = [scenario.occurrence(n).start for n in range(12)]
    assert all(s >= NOW for s in starts)
    assert all(b - a == timedelta(minutes=20) for a, b in itertools.pairwise(starts))
    assert len(collisions) == 24  # two cameras x 12 accidents
    valid = {frozenset(p.cameras) for p in crossing_pairs(config)}
    used = set()
    for n in range(12):
        occurrence = scenario.occurrence(n)
        cameras = frozenset(e.camera_id for e in occurrence.all_events())
        assert cameras in valid
        used.add(cameras)
    assert used == valid  # both crossings get their accidents
    again = list(scenario.events(NOW - timedelta(hours=1), NOW + timedelta(hours=4)))
    assert again == events


def test_intrusion_is_placed_at_the_most_recent_night_and_seen_in_the_school_yard(
    config: MunicipalityConfig,
) -> None:
    scenario = intrusion(config, now=NOW, backfill=timedelta(hours=26))
    local = scenario.start.astimezone(TZ)
    assert (local.hour, local.minute) == (2, 30)
    assert local.date() == NOW.astimezone(TZ).date()
    _, pub = simulate(config, [scenario], NOW - timedelta(hours=26), NOW)
    persons = [e.ts for e in pub.events if e.kind == "person"]
    assert len(persons) >= 3
    for event in pub.events:
        assert (event.zone, event.source_id) == ("school-yard", "cam-school")
        assert event.kind in ("person", "loitering")
        assert is_night(event.ts, TZ)
        assert event.ts.astimezone(TZ).time() < time(6, 0)
    # one intruder: never three detections within five minutes (that would look like a crowd)
    assert all(c - a > timedelta(minutes=5) for a, c in zip(persons, persons[2:], strict=False))


def test_intrusion_tells_the_caller_when_the_backfill_misses_the_night(
    config: MunicipalityConfig,
) -> None:
    with pytest.raises(ScenarioError, match="backfill reaching the night"):
        intrusion(config, now=NOW, backfill=timedelta(hours=2))
    at_night = datetime(2026, 1, 21, 1, 0, tzinfo=UTC)  # 03:00 local
    placed = intrusion(config, now=at_night, backfill=timedelta(hours=1))
    assert at_night - placed.start < timedelta(hours=1)
    with pytest.raises(ScenarioError, match="not between 22:00 and 06:00"):
        intrusion(config, now=NOW, backfill=timedelta(days=2), local_time=time(12, 0))
    with pytest.raises(ScenarioError, match="no zone"):
        intrusion(config, now=NOW, backfill=timedelta(days=1), camera="cam-west")


def test_an_outage_silences_a_sensor_for_a_while_then_it_returns(
    config: MunicipalityConfig,
) -> None:
    start = NOW - timedelta(hours=1)
    scenario = sensor_outage(config, start, timedelta(minutes=30), seed=2)
    (silent,) = scenario.sensor_ids
    sensor = config.sensor(silent)
    assert sensor is not None
    assert sensor.kind.value not in ("river_level", "pm10", "pm25")
    _, pub = simulate(config, [scenario], NOW - timedelta(hours=2), NOW)
    times = [r.ts for r in series(pub.readings, silent)]
    assert not [t for t in times if start <= t < scenario.end]
    assert [t for t in times if t < start]
    assert [t for t in times if t >= scenario.end]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert max(gaps) >= timedelta(minutes=30)
    many = sensor_outage(config, start, timedelta(minutes=5), fraction=0.2)
    assert len(many.sensor_ids) == 3


def test_factories_report_missing_devices() -> None:
    from cityops.domain.catalog import MunicipalityConfig as Config
    from cityops.domain.entities import Municipality

    empty = Config(Municipality("nowhere", "Nowhere", center=CENTRE))
    for build in (
        lambda: flood(empty, NOW),
        lambda: pollution(empty, NOW),
        lambda: accident(empty, NOW),
        lambda: intrusion(empty, now=NOW, backfill=timedelta(days=1)),
    ):
        with pytest.raises(ScenarioError):
            build()


def test_events_fetched_window_by_window_are_the_same_as_all_at_once(
    config: MunicipalityConfig,
) -> None:
    scenario = recurring_accidents(config, NOW, seed=8)
    start, end = NOW - timedelta(minutes=30), NOW + timedelta(hours=3)
    whole = list(scenario.events(start, end))
    pieces = []
    t = start
    while t < end:
        pieces += scenario.events(t, min(t + timedelta(seconds=97), end))
        t += timedelta(seconds=97)
    assert pieces == whole
    assert len(whole) == 9 * 9  # nine accidents (at +0, +20, ... +160 min) of nine events
