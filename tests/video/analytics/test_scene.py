"""Scene logic on exact synthetic tracks: each zone condition once per episode, schedules in the
municipality's local time, and what the events carry."""

from __future__ import annotations

from datetime import time

from hypothesis import given
from hypothesis import strategies as st

from cityops.domain.analytics import (
    AnalyticsEventKind,
    AnalyticsZone,
    CameraAnalytics,
    CountLine,
    ObjectClass,
    Schedule,
    TimeWindow,
    ZoneKind,
)
from cityops.video.analytics.scene import SceneLogic
from cityops.video.analytics.types import AnalyticsEvent, TrackedObject
from tests.video.analytics.helpers import T0, at, obj

SQUARE = ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8))
K = AnalyticsEventKind
CAR = ObjectClass.VEHICLE


def scene(*zones: AnalyticsZone, lines: tuple[CountLine, ...] = ()) -> SceneLogic:
    return SceneLogic(CameraAnalytics(zones=zones, lines=lines), timezone="Europe/Sofia")


def run(logic: SceneLogic, frames: list[tuple[float, list[TrackedObject]]]) -> list[AnalyticsEvent]:
    events: list[AnalyticsEvent] = []
    for t, objects in frames:
        events += logic.update(objects, at(t))[0]
    return events


def test_entering_a_presence_zone_is_one_event_per_episode() -> None:
    logic = scene(AnalyticsZone("yard", SQUARE))
    inside = [(t * 0.2, [obj(7, (0.5, 0.5))]) for t in range(20)]
    outside = [(4.0 + t * 0.2, [obj(7, (0.9, 0.9))]) for t in range(20)]  # 4 s away
    back = [(8.0 + t * 0.2, [obj(7, (0.5, 0.5))]) for t in range(5)]
    events = run(logic, inside + outside + back)
    assert [(e.kind, e.zone, e.track_id) for e in events] == [(K.PERSON, "yard", 7)] * 2
    first = events[0]
    assert first.attributes == {"track_id": "7", "zone": "yard", "since": T0.isoformat()}
    assert first.boxes == (obj(7, (0.5, 0.5)).box,)
    assert events[1].attributes["since"] == at(8.0).isoformat()


def test_a_short_step_outside_does_not_start_a_new_episode() -> None:
    logic = scene(AnalyticsZone("yard", SQUARE))
    frames = [(0.0, [obj(1, (0.5, 0.5))]), (0.4, [obj(1, (0.85, 0.5))])]
    frames += [(0.8, [obj(1, (0.75, 0.5))]), (1.2, [obj(1, (0.7, 0.5))])]
    assert len(run(logic, frames)) == 1


def test_classes_of_the_zone_only() -> None:
    logic = scene(AnalyticsZone("road", SQUARE, classes=frozenset({CAR})))
    events = run(logic, [(0, [obj(1, (0.5, 0.5)), obj(2, (0.4, 0.5), CAR)])])
    assert [(e.kind, e.track_id) for e in events] == [(K.VEHICLE, 2)]


def test_intrusion_only_while_the_schedule_is_active_in_local_time() -> None:
    # 22:00-06:00 in Sofia; T0 is 12:00 there (10:00 UTC): nobody is an intruder by day
    night = Schedule((TimeWindow(time(22, 0), time(6, 0)),))
    logic = scene(AnalyticsZone("school", SQUARE, kind=ZoneKind.INTRUSION, schedule=night))
    assert run(logic, [(t, [obj(1, (0.5, 0.5))]) for t in range(3)]) == []
    # 20:30 UTC is 22:30 in Sofia (UTC+2 in January): the window has begun
    evening = 10.5 * 3600
    events = run(logic, [(evening + t, [obj(1, (0.5, 0.5))]) for t in range(3)])
    assert [(e.kind, e.zone) for e in events] == [(K.INTRUSION, "school")]


def test_loitering_once_after_the_dwell_time() -> None:
    logic = scene(AnalyticsZone("atm", SQUARE, loiter_s=10.0))
    events = run(logic, [(t * 0.5, [obj(3, (0.5, 0.5))]) for t in range(60)])
    kinds = [(e.kind, round((e.ts - T0).total_seconds(), 1)) for e in events]
    assert kinds == [(K.PERSON, 0.0), (K.LOITERING, 10.5)]


def test_crowding_once_per_episode_with_hysteresis() -> None:
    logic = scene(AnalyticsZone("square", SQUARE, crowd_max=3))

    def people(n: int) -> list[TrackedObject]:
        return [obj(100 + i, (0.3 + i * 0.1, 0.5)) for i in range(n)]

    counts = [2, 3, 4, 5, 3, 4, 3, 3]  # dips for a moment below: the same crowd
    frames = [(float(i), people(n)) for i, n in enumerate(counts)]
    frames += [(8.0 + i, people(2)) for i in range(6)]  # 5 s at or below: over
    frames += [(14.0, people(4))]  # a new crowd
    crowd = [e for e in run(logic, frames) if e.kind is K.CROWDING]
    assert [(round((e.ts - T0).total_seconds()), e.attributes["people"]) for e in crowd] == [
        (2, "4"),
        (14, "4"),
    ]
    assert len(crowd[0].boxes) == 4


def test_stopped_vehicle_once_and_not_a_slow_one() -> None:
    logic = scene(AnalyticsZone("lane", SQUARE, classes=frozenset({CAR}), stopped_s=5.0))
    drive = [(t * 0.5, [obj(4, (0.3 + t * 0.02, 0.5), CAR)]) for t in range(10)]
    stand = [(5.0 + t * 0.5, [obj(4, (0.5 + (t % 2) * 0.005, 0.5), CAR)]) for t in range(20)]
    slow = [(0.0 + t * 0.5, [obj(5, (0.25 + t * 0.006, 0.3), CAR)]) for t in range(30)]
    frames = [(a[0], a[1] + b[1]) for a, b in zip(drive + stand, slow, strict=False)]
    stopped = [e for e in run(logic, frames) if e.kind is K.STOPPED_VEHICLE]
    # standing since 5.0 s: reported at 10.0 s (5 s still), only the standing car
    assert [(e.track_id, (e.ts - T0).total_seconds()) for e in stopped] == [(4, 10.0)]


def test_wrong_way_against_the_zone_direction() -> None:
    down = AnalyticsZone("lane", SQUARE, classes=frozenset({CAR}), direction_deg=90.0)
    logic = scene(down)
    right_way = [(t * 0.25, [obj(1, (0.4, 0.25 + t * 0.03), CAR)]) for t in range(16)]
    wrong_way = [(t * 0.25, [obj(2, (0.6, 0.75 - t * 0.03), CAR)]) for t in range(16)]
    frames = [(a[0], a[1] + b[1]) for a, b in zip(right_way, wrong_way, strict=True)]
    wrong = [e for e in run(logic, frames) if e.kind is K.WRONG_WAY]
    assert [(e.track_id, e.zone) for e in wrong] == [(2, "lane")]


def test_without_zones_each_new_object_is_one_event() -> None:
    logic = scene()
    frames = [(t * 0.2, [obj(1, (0.5, 0.5)), obj(2, (0.2, 0.6), CAR)]) for t in range(5)]
    frames.append((1.2, [obj(3, (0.1, 0.1), ObjectClass.OTHER)]))
    events = run(logic, frames)
    assert sorted((e.kind, e.track_id, e.zone) for e in events) == [
        (K.PERSON, 1, None),
        (K.VEHICLE, 2, None),
    ]


def test_a_line_without_counters_reports_each_crossing_as_an_event() -> None:
    fence = CountLine("fence", (0.0, 0.5), (1.0, 0.5), classes=frozenset({ObjectClass.PERSON}))
    logic = scene(AnalyticsZone("far", ((0, 0), (0.1, 0), (0.1, 0.1))), lines=(fence,))
    events = run(logic, [(0, [obj(9, (0.5, 0.4))]), (1, [obj(9, (0.5, 0.6))])])
    assert [(e.kind, e.attributes["line"], e.attributes["direction"]) for e in events] == [
        (K.LINE_CROSSING, "fence", "forward")
    ]


def test_an_intrusion_zone_reports_one_visit_however_often_the_track_is_lost() -> None:
    """The intruder's track is lost (track 1 for 100 s, the dark yard swallows them), found
    again as tracks 2 and 3, and a second person joins: one ``intrusion``, and one
    ``loitering`` once the visit (not any one track) has lasted loiter_s. Nobody inside for
    ``visit_gap_s`` (300 s) ends the visit: the next one is a new intrusion."""
    logic = scene(AnalyticsZone("school", SQUARE, kind=ZoneKind.INTRUSION, loiter_s=60.0))
    frames = [(t * 0.2, [obj(1, (0.3, 0.5))]) for t in range(50)]  # 0-10 s
    frames += [(110.0 + t * 0.2, [obj(2, (0.5, 0.5))]) for t in range(25)]  # lost 100 s
    frames += [(120.0 + t * 0.2, [obj(3, (0.6, 0.5)), obj(4, (0.4, 0.6))]) for t in range(25)]
    frames += [(125.0 + 299.0, [])]  # just under the gap: the visit goes on
    frames += [(125.0 + 299.5, [obj(5, (0.5, 0.5))]), (125.0 + 900.0, [obj(6, (0.5, 0.5))])]
    events = run(logic, frames)
    kinds = [(e.kind, e.track_id, round((e.ts - T0).total_seconds(), 1)) for e in events]
    assert kinds == [(K.INTRUSION, 1, 0.0), (K.LOITERING, 2, 110.0), (K.INTRUSION, 6, 1025.0)]
    assert events[1].attributes["since"] == T0.isoformat()  # the visit's start
    assert events[2].attributes["since"] == at(1025.0).isoformat()


def test_a_short_intrusion_visit_does_not_loiter() -> None:
    logic = scene(AnalyticsZone("school", SQUARE, kind=ZoneKind.INTRUSION, loiter_s=60.0))
    frames = [(t * 1.0, [obj(1, (0.5, 0.5))]) for t in range(50)]
    assert [e.kind for e in run(logic, frames)] == [K.INTRUSION]


@given(
    st.lists(
        st.tuples(st.floats(0.2, 700.0), st.integers(1, 5), st.booleans()),
        min_size=1,
        max_size=60,
    )
)
def test_intrusions_are_exactly_the_visits(steps: list[tuple[float, int, bool]]) -> None:
    """Any sequence of frames (gaps of 0.2 s to over 11 min, one of five track ids, someone
    inside or not): one ``intrusion`` at the first sighting and at each sighting after more
    than ``visit_gap_s`` (300 s) without one, nothing else; each carries its visit's start."""
    logic = scene(AnalyticsZone("school", SQUARE, kind=ZoneKind.INTRUSION))
    t, last, expected, got = 0.0, None, [], []
    for gap, track, inside in steps:
        t += gap
        objects = [obj(track, (0.5, 0.5) if inside else (0.9, 0.9))]
        now = at(t).timestamp()  # what the logic sees (microseconds)
        if inside:
            if last is None or now - last > 300.0:
                expected.append(now)
            last = now
        got += logic.update(objects, at(t))[0]
    assert [e.kind for e in got] == [K.INTRUSION] * len(expected)
    assert [e.ts.timestamp() for e in got] == expected
    assert all(e.attributes["since"] == e.ts.isoformat() for e in got)
