"""Line geometry and counting on exact synthetic tracks: direction by the side of the line,
hysteresis against jitter, the segment's extent, classes, and counts per aligned interval."""

from __future__ import annotations

from cityops.domain.analytics import CountLine, LineDirection, ObjectClass
from cityops.video.analytics.geometry import (
    ZoneShape,
    angle_between,
    crossing_position,
    heading_deg,
    signed_distance,
)
from cityops.video.analytics.lines import LineCounter
from tests.video.analytics.helpers import T0, at, obj

# a horizontal line across the middle, drawn left to right: above it is its left side
LINE = CountLine(
    "l1",
    (0.1, 0.5),
    (0.9, 0.5),
    classes=frozenset({ObjectClass.VEHICLE}),
    sensors={LineDirection.FORWARD: "cnt-down", LineDirection.BACKWARD: "cnt-up"},
    interval_s=60.0,
)
CAR = ObjectClass.VEHICLE


def test_side_of_the_line_seen_from_a_towards_b() -> None:
    a, b = (0.1, 0.5), (0.9, 0.5)
    assert signed_distance(a, b, (0.5, 0.4)) < 0  # above (y down): on the left
    assert signed_distance(a, b, (0.5, 0.6)) > 0
    assert abs(signed_distance(a, b, (0.5, 0.6)) - 0.1) < 1e-9
    # a vertical line drawn downwards has its left on the right of the picture
    assert signed_distance((0.5, 0.0), (0.5, 1.0), (0.7, 0.5)) < 0
    # aspect: distances are in image heights, so x counts 16/9 as much in a 16:9 picture
    assert abs(signed_distance((0.5, 0.0), (0.5, 1.0), (0.4, 0.5), 16 / 9) - 0.1 * 16 / 9) < 1e-9


def test_crossing_position_along_the_segment() -> None:
    a, b = (0.1, 0.5), (0.9, 0.5)
    assert crossing_position(a, b, (0.5, 0.4), (0.5, 0.6)) == 0.5
    assert crossing_position(a, b, (0.0, 0.4), (0.0, 0.6)) < 0  # type: ignore[operator]
    assert crossing_position(a, b, (0.5, 0.4), (0.6, 0.45)) is None


def test_heading_and_angles() -> None:
    assert heading_deg((0.5, 0.5), (0.6, 0.5)) == 0.0
    assert heading_deg((0.5, 0.5), (0.5, 0.6)) == 90.0
    assert heading_deg((0.5, 0.5), (0.4, 0.5)) == 180.0
    assert angle_between(350.0, 10.0) == 20.0
    assert angle_between(90.0, 270.0) == 180.0


def test_zone_shape_contains_points_inside_and_on_the_edge() -> None:
    zone = ZoneShape(((0.2, 0.2), (0.6, 0.2), (0.6, 0.6), (0.2, 0.6)))
    assert zone.contains((0.4, 0.4))
    assert zone.contains((0.6, 0.4))
    assert not zone.contains((0.61, 0.4))


def feed(counter: LineCounter, track: list[tuple[float, tuple[float, float]]], tid: int = 1):  # type: ignore[no-untyped-def]
    crossings, counts = [], []
    for t, foot in track:
        c, n = counter.update([obj(tid, foot, CAR)], at(t))
        crossings += c
        counts += n
    return crossings, counts


def test_a_car_driving_down_counts_forward_once() -> None:
    counter = LineCounter(LINE)
    crossings, _ = feed(counter, [(i * 0.2, (0.5, 0.2 + i * 0.05)) for i in range(14)])
    assert [(c.direction, c.track.track_id) for c in crossings] == [(LineDirection.FORWARD, 1)]
    assert counter.totals() == {(LineDirection.FORWARD, CAR): 1}


def test_a_car_driving_up_counts_backward() -> None:
    counter = LineCounter(LINE)
    crossings, _ = feed(counter, [(i * 0.2, (0.5, 0.85 - i * 0.05)) for i in range(14)])
    assert [c.direction for c in crossings] == [LineDirection.BACKWARD]


def test_jitter_on_the_line_is_not_counted_again() -> None:
    counter = LineCounter(LINE)  # hysteresis 0.03 image heights
    wobble = [0.52, 0.48, 0.515, 0.485, 0.51, 0.49, 0.52]
    track = [(0.0, (0.5, 0.4)), (0.2, (0.5, 0.45))]
    track += [(0.4 + i * 0.2, (0.5, y)) for i, y in enumerate(wobble)]
    track += [(2.0, (0.5, 0.56)), (2.2, (0.5, 0.52)), (2.4, (0.5, 0.49)), (2.6, (0.5, 0.6))]
    crossings, _ = feed(counter, track)
    assert [c.direction for c in crossings] == [LineDirection.FORWARD]


def test_a_car_that_really_turns_back_counts_both_ways() -> None:
    counter = LineCounter(LINE)
    crossings, _ = feed(counter, [(0, (0.5, 0.4)), (1, (0.5, 0.6)), (2, (0.5, 0.4))])
    assert [c.direction for c in crossings] == [LineDirection.FORWARD, LineDirection.BACKWARD]


def test_passing_beside_the_segment_or_of_another_class_is_not_counted() -> None:
    counter = LineCounter(LINE)
    crossings, _ = feed(counter, [(0, (0.95, 0.3)), (1, (0.95, 0.7))])
    assert crossings == []
    person = [obj(2, (0.5, 0.3)), obj(2, (0.5, 0.7))]
    assert counter.update([person[0]], at(2))[0] == []
    assert counter.update([person[1]], at(3))[0] == []
    assert counter.totals() == {}


def test_counts_per_aligned_interval_with_zeros_and_sensors() -> None:
    # T0 is on a whole minute; start 30 s in, so the first interval is observed for 30 s only
    counter = LineCounter(LINE)
    feed(counter, [(30, (0.5, 0.4)), (31, (0.5, 0.6))], tid=1)
    feed(counter, [(40, (0.5, 0.6)), (41, (0.5, 0.4))], tid=2)
    feed(counter, [(50, (0.5, 0.4)), (51, (0.5, 0.6))], tid=3)
    _, counts = feed(counter, [(61, (0.2, 0.9))], tid=4)
    by_dir = {c.direction: c for c in counts}
    assert {d: c.count for d, c in by_dir.items()} == {
        LineDirection.FORWARD: 2,
        LineDirection.BACKWARD: 1,
    }
    fwd = by_dir[LineDirection.FORWARD]
    assert (fwd.start, fwd.end) == (at(30), at(60))
    assert fwd.sensor_id == "cnt-down"
    assert by_dir[LineDirection.BACKWARD].sensor_id == "cnt-up"
    assert all(c.cls is CAR and c.line_id == "l1" for c in counts)
    # the next minute is observed whole; nothing crossed: zeros are readings too
    _, counts = feed(counter, [(125, (0.2, 0.9))], tid=4)
    assert [(c.count, c.start, c.end) for c in counts] == [(0, at(60), at(120))] * 2
    assert T0.second == 0


def test_after_a_gap_the_interval_is_observed_from_the_first_frame() -> None:
    counter = LineCounter(LINE)
    feed(counter, [(10, (0.2, 0.9))])
    _, counts = feed(counter, [(200, (0.2, 0.9))])  # nothing seen for three minutes
    assert [(c.start, c.end) for c in counts] == [(at(10), at(60))] * 2
    _, counts = feed(counter, [(245, (0.2, 0.9))])
    assert [(c.start, c.end) for c in counts] == [(at(200), at(240))] * 2
