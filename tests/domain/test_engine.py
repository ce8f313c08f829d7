"""The rule engine, driven by a frozen clock: every time is an explicit datetime."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import pytest

from cityops.domain.engine import JsonValue, RuleEngine, SensorState
from cityops.domain.entities import (
    Camera,
    LonLat,
    Municipality,
    Sector,
    Sensor,
    SensorKind,
    Severity,
)
from cityops.domain.geo import projection_for
from cityops.domain.observations import Event, EventSource, Reading
from cityops.domain.rules import (
    CameraEventRule,
    Comparison,
    CorrelationRule,
    RateOfChangeRule,
    Rule,
    RuleOutcome,
    SensorSelector,
    SilenceRule,
    ThresholdRule,
    Trigger,
    TriggerKind,
)

RAISED, CLEARED = TriggerKind.RAISED, TriggerKind.CLEARED
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MUN = "yambol"
CENTER = LonLat(26.5100, 42.4840)
MUNICIPALITY = Municipality(id=MUN, name="Yambol", timezone="Europe/Sofia", center=CENTER)
OUTCOME = RuleOutcome("flood", Sector.DISASTER, Severity.SEVERE, "River level high")
LEVEL = Sensor(
    id="level-1",
    municipality=MUN,
    name="river level",
    kind=SensorKind.RIVER_LEVEL,
    unit="m",
    position=LonLat(26.5000, 42.4800),
)
TEMP = Sensor(
    id="temp-1",
    municipality=MUN,
    name="air temperature",
    kind=SensorKind.TEMPERATURE,
    unit="°C",
    position=LonLat(26.5200, 42.4900),
)
CAM = Camera(
    id="cam-1",
    municipality=MUN,
    name="School gate",
    position=LonLat(26.5150, 42.4860),
    heading_deg=90.0,
    fov_deg=60.0,
    range_m=80.0,
)
ON_LEVEL = SensorSelector(sensor_ids=("level-1",))


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def since_t0(moment: datetime) -> float:
    return (moment - T0).total_seconds()


def make_engine(
    *rules: Rule, sensors: Sequence[Sensor] = (LEVEL, TEMP), cameras: Sequence[Camera] = (CAM,)
) -> RuleEngine:
    return RuleEngine(MUNICIPALITY, rules, sensors, cameras)


def high(
    *, for_s: float = 0.0, clear_value: float | None = None, clear_for_s: float = 0.0
) -> ThresholdRule:
    return ThresholdRule(
        id="flood-high",
        municipality=MUN,
        outcome=OUTCOME,
        sensors=ON_LEVEL,
        op=Comparison.ABOVE,
        value=2.8,
        for_s=for_s,
        clear_value=clear_value,
        clear_for_s=clear_for_s,
    )


Seen = tuple[TriggerKind, float, str]
"""(kind, seconds after T0, dedup key): enough to compare trigger sequences exactly."""


def feed(
    engine: RuleEngine, points: Sequence[tuple[float, float]], sensor: str = "level-1"
) -> list[Seen]:
    seen: list[Seen] = []
    for seconds, value in points:
        for t in engine.on_reading(Reading(MUN, sensor, at(seconds), value), at(seconds)):
            seen.append((t.kind, since_t0(t.at), t.dedup_key))
    return seen


def every_minute(start: int, stop: int, value: float) -> list[tuple[float, float]]:
    """Readings every 60 s from ``start`` to ``stop`` seconds, both included."""
    return [(float(s), value) for s in range(start, stop + 1, 60)]


# --- threshold --------------------------------------------------------------------------------


def test_threshold_raises_only_once_held_for_for_s() -> None:
    engine = make_engine(high(for_s=600))
    assert feed(engine, every_minute(0, 540, 2.93)) == []
    assert engine.sensor_state("level-1") is SensorState.OK

    triggers = engine.on_reading(Reading(MUN, "level-1", at(600), 2.93), at(601))

    assert triggers == [
        Trigger(
            rule_id="flood-high",
            municipality=MUN,
            kind=RAISED,
            at=at(600),
            dedup_key="flood-high|level-1",
            subject="level-1",
            outcome=OUTCOME,
            text="river level 2.93 m above 2.8 m for 10 min",
            location=LEVEL.position,
            value=2.93,
        )
    ]
    assert engine.sensor_state("level-1") is SensorState.ALARM
    assert feed(engine, every_minute(660, 3600, 3.4)) == []  # no flood of RAISED while active


@pytest.mark.parametrize("dip", [2.7, 2.8])
def test_threshold_dip_resets_the_pending_duration(dip: float) -> None:
    engine = make_engine(high(for_s=600))
    points = [*every_minute(0, 300, 3.0), (360.0, dip), *every_minute(420, 1080, 3.0)]
    assert feed(engine, points) == [(RAISED, 1020.0, "flood-high|level-1")]


def test_threshold_without_duration_raises_at_once() -> None:
    engine = make_engine(high())
    triggers = engine.on_reading(Reading(MUN, "level-1", at(0), 2.9), at(0))
    assert [(t.kind, t.text) for t in triggers] == [(RAISED, "river level 2.9 m above 2.8 m")]
    assert feed(engine, [(60, 3.1), (120, 3.5), (180, 2.9)]) == []


def test_hysteresis_band_does_not_clear() -> None:
    engine = make_engine(high(clear_value=2.5))
    points = [(0, 3.0), (60, 2.7), (120, 2.6), (180, 2.9), (240, 2.5), (300, 2.79)]
    assert feed(engine, points) == [(RAISED, 0.0, "flood-high|level-1")]

    cleared = engine.on_reading(Reading(MUN, "level-1", at(360), 2.4), at(360))
    assert [(t.kind, t.text, t.value) for t in cleared] == [
        (CLEARED, "river level 2.4 m, back below 2.5 m", 2.4)
    ]
    assert engine.sensor_state("level-1") is SensorState.OK
    assert feed(engine, [(420, 2.6), (480, 2.9)]) == [(RAISED, 480.0, "flood-high|level-1")]


def test_flapping_sensor_raises_once() -> None:
    engine = make_engine(high(clear_value=2.5))
    points = [(60.0 * i, 2.85 if i % 2 == 0 else 2.75) for i in range(120)]
    assert feed(engine, points) == [(RAISED, 0.0, "flood-high|level-1")]


def test_flapping_sensor_never_holds_long_enough() -> None:
    engine = make_engine(high(for_s=300))
    points = [(60.0 * i, 2.85 if i % 4 else 2.75) for i in range(120)]
    assert feed(engine, points) == []


def test_clear_needs_clear_for_s_without_interruption() -> None:
    engine = make_engine(high(clear_value=2.5, clear_for_s=300))
    points = [(0, 3.0), (60, 2.4), (120, 2.3), (180, 2.6), *every_minute(240, 480, 2.4)]
    assert feed(engine, points) == [(RAISED, 0.0, "flood-high|level-1")]

    cleared = engine.on_reading(Reading(MUN, "level-1", at(540), 2.4), at(540))
    assert [(t.kind, t.at, t.text) for t in cleared] == [
        (CLEARED, at(540), "river level 2.4 m, back below 2.5 m for 5 min")
    ]


def test_a_new_raise_after_clear_needs_the_full_duration() -> None:
    engine = make_engine(high(for_s=300))
    points = [*every_minute(0, 300, 3.0), (360, 2.0), *every_minute(420, 780, 3.0)]
    assert feed(engine, points) == [
        (RAISED, 300.0, "flood-high|level-1"),
        (CLEARED, 360.0, "flood-high|level-1"),
        (RAISED, 720.0, "flood-high|level-1"),
    ]


def test_threshold_below_with_hysteresis() -> None:
    frost = ThresholdRule(
        id="frost",
        municipality=MUN,
        outcome=OUTCOME,
        sensors=SensorSelector(kinds=(SensorKind.TEMPERATURE,)),
        op=Comparison.BELOW,
        value=0.0,
        clear_value=1.0,
    )
    engine = make_engine(frost)
    points = [(0, 2.0), (60, -0.5), (120, 0.5), (180, 1.0), (240, 1.5)]
    assert feed(engine, points, sensor="temp-1") == [
        (RAISED, 60.0, "frost|temp-1"),
        (CLEARED, 240.0, "frost|temp-1"),
    ]
    again = engine.on_reading(Reading(MUN, "temp-1", at(300), -2.25), at(300))
    assert [t.text for t in again] == ["air temperature -2.25 °C below 0 °C"]


def test_out_of_order_and_duplicate_readings_are_ignored() -> None:
    engine = make_engine(high(for_s=600))
    points = [(0, 3.0), (60, 3.0), (30, 2.0), (60, 2.0), *every_minute(120, 600, 3.0), (600, 3.0)]
    assert feed(engine, points) == [(RAISED, 600.0, "flood-high|level-1")]


def test_redelivered_reading_does_not_raise_again() -> None:
    engine = make_engine(high())
    assert feed(engine, [(0, 3.0), (60, 2.0), (0, 3.0), (60, 3.0)]) == [
        (RAISED, 0.0, "flood-high|level-1"),
        (CLEARED, 60.0, "flood-high|level-1"),
    ]


def test_readings_the_engine_does_not_watch_change_nothing() -> None:
    engine = make_engine(high())
    foreign = Reading("elhovo", "level-1", at(0), 9.0)
    assert engine.on_reading(foreign, at(0)) == []
    assert engine.on_reading(Reading(MUN, "unknown-sensor", at(0), 9.0), at(0)) == []
    assert engine.on_reading(Reading(MUN, "level-1", at(0), math.nan), at(0)) == []
    assert engine.take_dirty_state() == {}
    assert engine.sensor_state("level-1") is SensorState.UNKNOWN
    assert engine.sensor_state("unknown-sensor") is SensorState.UNKNOWN


def test_sensor_rules_lists_the_rules_watching_a_sensor() -> None:
    silence = SilenceRule(
        id="offline",
        municipality=MUN,
        outcome=OUTCOME,
        sensors=SensorSelector(kinds=(SensorKind.RIVER_LEVEL,)),
        silence_s=900,
    )
    other = RateOfChangeRule(
        id="elsewhere",
        municipality="elhovo",
        outcome=OUTCOME,
        sensors=ON_LEVEL,
        change=0.3,
        window_s=600,
    )
    engine = make_engine(high(), silence, other)
    assert engine.sensor_rules("level-1") == [high(), silence]
    assert engine.sensor_rules("temp-1") == []
    assert engine.sensor_rules("nope") == []


# --- rate of change ---------------------------------------------------------------------------


def rate(change: float, window_s: float, clear_for_s: float = 0.0) -> RateOfChangeRule:
    return RateOfChangeRule(
        id="flood-rise",
        municipality=MUN,
        outcome=OUTCOME,
        sensors=ON_LEVEL,
        change=change,
        window_s=window_s,
        clear_for_s=clear_for_s,
    )


def test_rate_of_change_rise() -> None:
    engine = make_engine(rate(0.3, 1800))
    assert feed(engine, [(0, 1.0), (300, 1.1), (600, 1.2), (900, 1.3)]) == []

    raised = engine.on_reading(Reading(MUN, "level-1", at(1200), 1.35), at(1200))
    assert [(t.kind, t.dedup_key, t.value, t.text) for t in raised] == [
        (
            RAISED,
            "flood-rise|level-1",
            1.35,
            "river level rose 0.35 m in 20 min to 1.35 m (more than 0.3 m within 30 min)",
        )
    ]
    assert engine.sensor_state("level-1") is SensorState.ALARM
    # 1.0 at 0 s is still in the window at 1800 s (inclusive); at 2100 s the minimum is 1.1
    assert feed(engine, [(1500, 1.35), (1800, 1.35), (2100, 1.35)]) == [
        (CLEARED, 2100.0, "flood-rise|level-1")
    ]


def test_rate_of_change_fall_with_clear_for_s() -> None:
    engine = make_engine(rate(-0.5, 600, clear_for_s=600))
    raised = engine.on_reading(Reading(MUN, "level-1", at(0), 5.0), at(0))
    raised += engine.on_reading(Reading(MUN, "level-1", at(300), 4.8), at(300))
    raised += engine.on_reading(Reading(MUN, "level-1", at(600), 4.4), at(600))
    assert [t.text for t in raised] == [
        "river level fell 0.6 m in 10 min to 4.4 m (more than 0.5 m within 10 min)"
    ]
    assert feed(engine, [(900, 4.4), (1200, 4.4), (1500, 4.4)]) == [
        (CLEARED, 1500.0, "flood-rise|level-1")
    ]


def test_slow_rise_does_not_trigger_and_state_stays_small() -> None:
    engine = make_engine(rate(0.3, 1800))
    points = [(900.0 * i, 1.0 + 0.1 * i) for i in range(40)]
    assert feed(engine, points) == []
    state = engine.export_state()["flood-rise|level-1"]
    assert isinstance(state, dict)
    assert state["window"] == [[900.0 * i + T0.timestamp(), 1.0 + 0.1 * i] for i in (37, 38, 39)]


# --- silence ----------------------------------------------------------------------------------

SILENCE = SilenceRule(
    id="offline", municipality=MUN, outcome=OUTCOME, sensors=ON_LEVEL, silence_s=900
)


def test_silence_raises_once_and_clears_on_the_next_reading() -> None:
    engine = make_engine(SILENCE)
    assert engine.tick(at(0)) == []  # never heard of: counted from the first tick
    assert engine.tick(at(899)) == []
    assert engine.sensor_state("level-1") is SensorState.UNKNOWN

    raised = engine.tick(at(900))
    assert raised == [
        Trigger(
            rule_id="offline",
            municipality=MUN,
            kind=RAISED,
            at=at(900),
            dedup_key="offline|level-1",
            subject="level-1",
            outcome=OUTCOME,
            text="river level: no reading for 15 min",
            location=LEVEL.position,
        )
    ]
    assert engine.sensor_state("level-1") is SensorState.OFFLINE
    assert engine.tick(at(960)) == []
    assert engine.tick(at(5000)) == []

    back = engine.on_reading(Reading(MUN, "level-1", at(5990), 2.0), at(6000))
    assert [(t.kind, t.at, t.text, t.value) for t in back] == [
        (CLEARED, at(6000), "river level: back online after 1 h 40 min without readings", 2.0)
    ]
    assert engine.sensor_state("level-1") is SensorState.OK
    assert engine.tick(at(6899)) == []
    assert [since_t0(t.at) for t in engine.tick(at(6900))] == [6900.0]


def test_silence_uses_receive_time_not_reading_time() -> None:
    engine = make_engine(SILENCE)
    engine.tick(at(0))
    for minute in range(1, 60):
        # a device with a clock an hour behind still reports every minute
        late = Reading(MUN, "level-1", at(minute * 60 - 3600), 2.0)
        assert engine.on_reading(late, at(minute * 60)) == []
        assert engine.tick(at(minute * 60 + 30)) == []
    assert engine.sensor_state("level-1") is SensorState.OK


def test_alarm_takes_precedence_over_offline() -> None:
    engine = make_engine(high(), SILENCE)
    assert feed(engine, [(0, 3.0)]) == [(RAISED, 0.0, "flood-high|level-1")]
    assert [t.dedup_key for t in engine.tick(at(1000))] == ["offline|level-1"]
    assert engine.sensor_state("level-1") is SensorState.ALARM
    assert feed(engine, [(1100, 2.0)]) == [
        (CLEARED, 1100.0, "flood-high|level-1"),
        (CLEARED, 1100.0, "offline|level-1"),
    ]
    assert engine.sensor_state("level-1") is SensorState.OK


# --- camera events ----------------------------------------------------------------------------

NIGHT_PERSON = CameraEventRule(
    id="night-person",
    municipality=MUN,
    outcome=OUTCOME,
    kinds=("person",),
    zones=("school-yard",),
    between=(time(22, 0), time(6, 0)),
    min_confidence=0.6,
)


def cam_event(
    ts: datetime,
    *,
    event_id: str = "e1",
    kind: str = "person",
    zone: str | None = "school-yard",
    confidence: float | None = 0.9,
    camera: str = "cam-1",
    position: LonLat | None = None,
    source: EventSource = EventSource.CAMERA,
) -> Event:
    return Event(MUN, event_id, source, camera, kind, ts, position, zone, confidence)


@pytest.mark.parametrize(
    ("ts", "matches"),
    [
        # winter, EET = UTC+2
        (datetime(2026, 1, 15, 19, 59, tzinfo=UTC), False),  # 21:59 local
        (datetime(2026, 1, 15, 20, 0, tzinfo=UTC), True),  # 22:00
        (datetime(2026, 1, 15, 20, 30, tzinfo=UTC), True),  # 22:30
        (datetime(2026, 1, 16, 3, 59, tzinfo=UTC), True),  # 05:59
        (datetime(2026, 1, 16, 4, 0, tzinfo=UTC), False),  # 06:00
        (datetime(2026, 1, 16, 12, 0, tzinfo=UTC), False),  # 14:00
        # summer, EEST = UTC+3
        (datetime(2026, 7, 15, 18, 59, tzinfo=UTC), False),  # 21:59
        (datetime(2026, 7, 15, 19, 0, tzinfo=UTC), True),  # 22:00
        (datetime(2026, 7, 15, 19, 30, tzinfo=UTC), True),  # 22:30 (21:30 if taken as UTC+2)
        (datetime(2026, 7, 16, 2, 59, tzinfo=UTC), True),  # 05:59
        (datetime(2026, 7, 16, 3, 0, tzinfo=UTC), False),  # 06:00 (05:00 if taken as UTC+2)
        # the night clocks go forward (2026-03-29 03:00 EET -> 04:00 EEST)
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), True),  # 02:30 EET
        (datetime(2026, 3, 29, 2, 30, tzinfo=UTC), True),  # 05:30 EEST
        (datetime(2026, 3, 29, 3, 0, tzinfo=UTC), False),  # 06:00 EEST
    ],
)
def test_camera_rule_time_window_in_local_time(ts: datetime, matches: bool) -> None:
    engine = make_engine(NIGHT_PERSON)
    triggers = engine.on_event(cam_event(ts))
    assert [t.dedup_key for t in triggers] == (
        ["night-person|cam-1:school-yard"] if matches else []
    )


def test_camera_rule_trigger() -> None:
    engine = make_engine(NIGHT_PERSON)
    ts = datetime(2026, 1, 15, 20, 30, tzinfo=UTC)
    assert engine.on_event(cam_event(ts)) == [
        Trigger(
            rule_id="night-person",
            municipality=MUN,
            kind=RAISED,
            at=ts,
            dedup_key="night-person|cam-1:school-yard",
            subject="cam-1:school-yard",
            outcome=OUTCOME,
            text="person seen by School gate in zone school-yard at 22:30 local time "
            "(confidence 0.90)",
            location=CAM.position,
            event_ids=("e1",),
        )
    ]
    spot = LonLat(26.5151, 42.4861)
    [second] = engine.on_event(cam_event(ts, event_id="e2", position=spot, confidence=None))
    assert (second.dedup_key, second.location, second.event_ids) == (
        "night-person|cam-1:school-yard",
        spot,
        ("e2",),
    )
    assert engine.take_dirty_state() == {}


@pytest.mark.parametrize(
    "event",
    [
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), kind="vehicle"),
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), zone="street"),
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), zone=None),
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), confidence=0.59),
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), source=EventSource.EXTERNAL),
        cam_event(datetime(2026, 1, 15, 20, 30, tzinfo=UTC), camera="cam-2"),
    ],
    ids=["kind", "zone", "no-zone", "confidence", "external", "other-camera"],
)
def test_camera_rule_filters(event: Event) -> None:
    only_cam_1 = CameraEventRule(
        id="night-person",
        municipality=MUN,
        outcome=OUTCOME,
        kinds=("person",),
        cameras=("cam-1",),
        zones=("school-yard",),
        min_confidence=0.6,
    )
    assert make_engine(only_cam_1).on_event(event) == []


def test_camera_rule_without_filters_matches_any_camera_and_zone() -> None:
    any_tamper = CameraEventRule(id="tamper", municipality=MUN, outcome=OUTCOME, kinds=("tamper",))
    engine = make_engine(any_tamper)
    ts = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    triggers = engine.on_event(cam_event(ts, kind="tamper", zone=None, camera="cam-9"))
    assert [(t.dedup_key, t.location) for t in triggers] == [("tamper|cam-9:*", None)]


# --- correlation ------------------------------------------------------------------------------

PILEUP = CorrelationRule(
    id="pileup",
    municipality=MUN,
    outcome=OUTCOME,
    kinds=("collision", "stopped_vehicle"),
    min_count=3,
    radius_m=300.0,
    window_s=300.0,
)
PROJECTION = projection_for(CENTER)


def place(dx: float, dy: float) -> LonLat:
    """A point ``dx`` m east and ``dy`` m north of the centre."""
    return PROJECTION.to_lonlat(dx, dy)


def incident(event_id: str, seconds: float, dx: float, dy: float, kind: str = "collision") -> Event:
    return Event(MUN, event_id, EventSource.EXTERNAL, "112", kind, at(seconds), place(dx, dy))


def events_in(
    engine: RuleEngine, events: Sequence[Event]
) -> list[tuple[float, str, tuple[str, ...]]]:
    seen = []
    for event in events:
        for t in engine.on_event(event):
            assert t.kind is RAISED
            seen.append((since_t0(t.at), t.dedup_key, t.event_ids))
    return seen


def test_correlation_raises_for_three_events_close_in_space_and_time() -> None:
    engine = make_engine(PILEUP)
    assert (
        events_in(engine, [incident("e1", 0, 0, 0), incident("e2", 60, 100, 0, "stopped_vehicle")])
        == []
    )

    [trigger] = engine.on_event(incident("e3", 120, 0, 150))

    assert (trigger.dedup_key, trigger.subject, trigger.event_ids, trigger.at) == (
        "pileup|cluster-1",
        "cluster-1",
        ("e1", "e2", "e3"),
        at(120),
    )
    assert trigger.text == "3 events (collision, stopped_vehicle) within 300 m in 2 min"
    assert trigger.location is not None
    assert PROJECTION.distance_m(trigger.location, place(100 / 3, 50)) < 0.01
    # more events at the same place join the same cluster; a repeated event id counts once
    assert events_in(engine, [incident("e4", 180, 50, 50), incident("e2", 60, 100, 0)]) == [
        (180.0, "pileup|cluster-1", ("e1", "e2", "e3", "e4"))
    ]


def test_correlation_ignores_events_too_far_apart_in_space() -> None:
    engine = make_engine(PILEUP)
    spread = [incident("e1", 0, 0, 0), incident("e2", 30, 200, 0), incident("e3", 60, 400, 0)]
    assert events_in(engine, spread) == []


def test_correlation_ignores_events_too_far_apart_in_time() -> None:
    engine = make_engine(PILEUP)
    slow = [incident("e1", 0, 0, 0), incident("e2", 200, 10, 0), incident("e3", 400, 20, 0)]
    assert events_in(engine, slow) == []
    assert events_in(engine, [incident("e4", 450, 0, 10)]) == [
        (450.0, "pileup|cluster-1", ("e2", "e3", "e4"))
    ]


def test_correlation_separate_places_get_separate_clusters_and_clusters_expire() -> None:
    engine = make_engine(PILEUP)
    first = [incident("a1", 0, 0, 0), incident("a2", 10, 0, 20), incident("a3", 20, 20, 0)]
    elsewhere = [incident("b1", 30, 2000, 0), incident("b2", 40, 2000, 20)]
    elsewhere.append(incident("b3", 50, 2020, 0))
    assert events_in(engine, first + elsewhere) == [
        (20.0, "pileup|cluster-1", ("a1", "a2", "a3")),
        (50.0, "pileup|cluster-2", ("b1", "b2", "b3")),
    ]
    engine.take_dirty_state()

    assert engine.tick(at(10_000)) == []  # the wall clock never expires a cluster
    assert engine.take_dirty_state() == {}
    assert sorted(engine.export_state()) == [
        "pileup|cluster-1",
        "pileup|cluster-2",
        "pileup|events",
    ]

    again = [incident("c1", 400, 0, 0), incident("c2", 410, 5, 5), incident("c3", 420, 10, 0)]
    assert events_in(engine, again) == [(420.0, "pileup|cluster-3", ("c1", "c2", "c3"))]
    dirty = engine.take_dirty_state()  # event time moved past both old clusters
    assert dirty["pileup|cluster-1"] is None
    assert dirty["pileup|cluster-2"] is None
    # an event older than the window the engine has moved past is ignored
    assert events_in(engine, [incident("old", 10, 0, 0)]) == []


def test_late_events_of_one_accident_stay_one_cluster_across_ticks() -> None:
    engine = make_engine(PILEUP)
    lagging = [incident(f"e{i}", i * 20, i * 5, 0) for i in range(4)]
    keys = []
    for n, event in enumerate(lagging):
        engine.tick(at(3600 + n * 30))  # the events arrive an hour late, ticks in between
        keys += [t.dedup_key for t in engine.on_event(event)]
    assert keys == ["pileup|cluster-1", "pileup|cluster-1"]


def test_correlation_window_moves_with_event_time_not_with_ticks() -> None:
    engine = make_engine(PILEUP)
    assert engine.tick(at(7200)) == []
    backlog = [incident("e1", 0, 0, 0), incident("e2", 10, 10, 0), incident("e3", 20, 0, 10)]
    assert events_in(engine, backlog) == [(20.0, "pileup|cluster-1", ("e1", "e2", "e3"))]


def test_correlation_uses_the_camera_position_for_camera_events() -> None:
    engine = make_engine(PILEUP)
    events = [
        Event(MUN, f"k{i}", EventSource.CAMERA, "cam-1", "collision", at(i * 10.0))
        for i in range(3)
    ]
    no_position = Event(MUN, "x", EventSource.CAMERA, "cam-404", "collision", at(25))
    assert engine.on_event(no_position) == []
    triggers = [t for event in events for t in engine.on_event(event)]
    assert [(t.event_ids, t.dedup_key) for t in triggers] == [
        (("k0", "k1", "k2"), "pileup|cluster-1")
    ]
    assert triggers[0].location is not None
    assert PROJECTION.distance_m(triggers[0].location, CAM.position) < 0.01


# --- state: export, restore, dirty entries ----------------------------------------------------

S0 = datetime(2026, 11, 22, 19, 30, tzinfo=UTC)
"""21:30 in Yambol: the scenario runs into the night-person window at 22:00."""


@dataclass(frozen=True)
class Step:
    """One input: a reading (received ``rx`` s after S0), an event, or a tick (``event`` None)."""

    seconds: float
    reading: tuple[str, float] | None = None
    rx: float = 0.0
    event: Event | None = None


def scenario_rules() -> tuple[Rule, ...]:
    return (
        ThresholdRule(
            id="flood-high",
            municipality=MUN,
            outcome=OUTCOME,
            sensors=ON_LEVEL,
            op=Comparison.ABOVE,
            value=2.8,
            for_s=300,
            clear_value=2.5,
            clear_for_s=120,
        ),
        RateOfChangeRule(
            id="flood-rise",
            municipality=MUN,
            outcome=OUTCOME,
            sensors=ON_LEVEL,
            change=0.3,
            window_s=900,
            clear_for_s=180,
        ),
        SilenceRule(
            id="offline",
            municipality=MUN,
            outcome=OUTCOME,
            sensors=SensorSelector(kinds=(SensorKind.RIVER_LEVEL, SensorKind.TEMPERATURE)),
            silence_s=600,
        ),
        ThresholdRule(
            id="frost",
            municipality=MUN,
            outcome=OUTCOME,
            sensors=SensorSelector(sensor_ids=("temp-1",)),
            op=Comparison.BELOW,
            value=0.0,
            clear_value=1.0,
        ),
        NIGHT_PERSON,
        PILEUP,
    )


def scenario() -> list[Step]:
    steps: list[Step] = []
    for i in range(70):
        s = i * 60.0
        level = 2.0 + 0.1 * min(max(i - 10, 0), 12) - 0.1 * min(max(i - 35, 0), 12)
        steps.append(Step(s, ("level-1", level), rx=s + 2))
        if i == 26:
            steps.append(Step(s - 60, ("level-1", 9.9), rx=s + 3))  # redelivered, different value
        if i < 20 or i > 40:
            steps.append(Step(s + 1, ("temp-1", 3.0 - 0.4 * (i % 15)), rx=s + 4))
        if i % 2 == 0:
            steps.append(Step(s + 30))
        if i in (12, 14, 15, 16, 44, 45):
            spot = place(10.0 * i, 0.0)
            event = Event(MUN, f"c{i}", EventSource.EXTERNAL, "112", "collision", S0, spot)
            steps.append(Step(s + 40, event=event))
        if i in (20, 31, 33):
            person = cam_event(S0, event_id=f"p{i}")
            steps.append(Step(s + 50, event=person))
    return steps


def run(engine: RuleEngine, steps: Sequence[Step]) -> list[Trigger]:
    triggers: list[Trigger] = []
    for step in steps:
        moment = S0 + timedelta(seconds=step.seconds)
        if step.reading is not None:
            sensor, value = step.reading
            reading = Reading(MUN, sensor, moment, value)
            triggers += engine.on_reading(reading, S0 + timedelta(seconds=step.rx))
        elif step.event is not None:
            event = Event(
                MUN,
                step.event.event_id,
                step.event.source,
                step.event.source_id,
                step.event.kind,
                moment,
                step.event.position,
                step.event.zone,
                step.event.confidence,
            )
            triggers += engine.on_event(event)
        else:
            triggers += engine.tick(moment)
    return triggers


def json_round_trip(state: dict[str, JsonValue]) -> dict[str, JsonValue]:
    loaded: dict[str, JsonValue] = json.loads(json.dumps(state))
    return loaded


def test_scenario_exercises_every_rule() -> None:
    triggers = run(make_engine(*scenario_rules()), scenario())
    assert [((t.at - S0).total_seconds(), t.rule_id, t.kind, t.subject) for t in triggers] == [
        (481.0, "frost", RAISED, "temp-1"),
        (840.0, "flood-rise", RAISED, "level-1"),
        (901.0, "frost", CLEARED, "temp-1"),
        (940.0, "pileup", RAISED, "cluster-1"),
        (1000.0, "pileup", RAISED, "cluster-1"),
        (1440.0, "flood-high", RAISED, "level-1"),
        (1830.0, "offline", RAISED, "temp-1"),
        (1910.0, "night-person", RAISED, "cam-1:school-yard"),
        (2030.0, "night-person", RAISED, "cam-1:school-yard"),
        (2220.0, "flood-rise", CLEARED, "level-1"),
        (2464.0, "offline", CLEARED, "temp-1"),  # receive time of the reading taken at 2461
        (2461.0, "frost", RAISED, "temp-1"),
        (2700.0, "flood-high", CLEARED, "level-1"),
        (2701.0, "frost", CLEARED, "temp-1"),
        (3181.0, "frost", RAISED, "temp-1"),
        (3601.0, "frost", CLEARED, "temp-1"),
        (4081.0, "frost", RAISED, "temp-1"),
    ]


def test_restore_after_any_step_behaves_as_if_never_stopped() -> None:
    steps = scenario()
    uninterrupted = make_engine(*scenario_rules())
    expected = run(uninterrupted, steps)
    final_state = uninterrupted.export_state()

    for split in range(len(steps) + 1):
        before = make_engine(*scenario_rules())
        first = run(before, steps[:split])
        saved = json_round_trip(before.export_state())

        after = make_engine(*scenario_rules())
        after.restore_state(saved, before.last_evaluated())
        assert after.take_dirty_state() == {}, split
        rest = run(after, steps[split:])

        assert first + rest == expected, split
        assert after.export_state() == final_state, split


class StoredReadings:
    """The readings table as the ingest keeps it: every reading of a batch stored (one per
    sensor and time: a redelivered one is not stored again), whatever the engine made of it;
    and the sensors table's mark: the newest reading's time and receive time."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[datetime, float]] = {}
        self.rx: dict[str, dict[datetime, datetime]] = {}

    def insert(
        self, sensor: str, ts: datetime, value: float, received: datetime | None = None
    ) -> None:
        self.rows.setdefault(sensor, {}).setdefault(ts, value)
        self.rx.setdefault(sensor, {}).setdefault(ts, ts if received is None else received)

    def since(self, since: Mapping[str, datetime]) -> dict[str, list[tuple[datetime, float]]]:
        """What observations_repo.readings_since answers."""
        return {
            sensor: sorted((ts, v) for ts, v in self.rows.get(sensor, {}).items() if ts >= start)
            for sensor, start in since.items()
        }

    def last(self) -> dict[str, datetime]:
        """The sensors table's ``last_ts``: each sensor's newest stored reading time."""
        return {sensor: max(rows) for sensor, rows in self.rows.items() if rows}

    def received(self) -> dict[str, datetime]:
        """The sensors table's ``last_received_at``: the newest reading's receive time (as
        first stored: a redelivery of it is no newer, so it moves nothing)."""
        return {sensor: self.rx[sensor][ts] for sensor, ts in self.last().items()}


def test_dirty_entries_and_the_stored_readings_restore_the_exported_state() -> None:
    """After every step, what the store holds (the dirty entries written, the readings stored)
    restores an engine equal to the running one, though a rate-of-change entry is not rewritten
    with every reading (its window is rebuilt from the readings stored after it)."""
    engine = make_engine(*scenario_rules())
    store: dict[str, JsonValue] = {}
    table = StoredReadings()
    rewrites: Counter[str] = Counter()
    for step in scenario():
        run(engine, [step])
        if step.reading is not None:
            sensor, value = step.reading
            moment = S0 + timedelta(seconds=step.seconds)
            table.insert(sensor, moment, value, S0 + timedelta(seconds=step.rx))
        for key, value in json_round_trip(dict(engine.take_dirty_state())).items():
            rewrites[key] += 1
            if value is None:
                store.pop(key, None)
            else:
                store[key] = value
        restored = make_engine(*scenario_rules())
        restored.restore_state(json_round_trip(store), table.last(), table.since, table.received())
        assert json_round_trip(restored.export_state()) == json_round_trip(engine.export_state())
    assert engine.take_dirty_state() == {}
    assert rewrites["flood-rise|level-1"] == 5  # baseline, raised, clearing, cleared, a late one
    assert rewrites["offline|level-1"] == 1  # the first reading; not 70
    assert rewrites["offline|temp-1"] == 3  # the first reading, raised, cleared; not 50
    assert sorted(store) == [  # flood-high cleared at 2700: an idle threshold keeps no entry
        "flood-rise|level-1",
        "frost|temp-1",
        "offline|level-1",
        "offline|temp-1",
        "pileup|events",
    ]


def test_a_redelivered_reading_after_restore_is_ignored() -> None:
    engine = make_engine(high())
    assert feed(engine, [(0, 3.0), (60, 2.0)]) == [
        (RAISED, 0.0, "flood-high|level-1"),
        (CLEARED, 60.0, "flood-high|level-1"),
    ]
    restarted = make_engine(high())
    restarted.restore_state(json_round_trip(engine.export_state()), engine.last_evaluated())
    assert feed(restarted, [(0, 3.0), (60, 3.0)]) == []
    assert feed(restarted, [(120, 3.0)]) == [(RAISED, 120.0, "flood-high|level-1")]


def test_restore_skips_unknown_keys_and_garbage() -> None:
    engine = make_engine(high(clear_value=2.5), rate(0.3, 600), SILENCE, PILEUP)
    ts60 = at(60).timestamp()
    good: JsonValue = {"ts": ts60, "active": True, "pending_since": None, "clear_since": None}
    state: dict[str, JsonValue] = {
        "flood-high|level-1": good,
        "flood-high|gone-sensor": good,
        "gone-rule|level-1": good,
        "offline|level-1": {"ts": "yesterday", "last_rx": None, "silent": False},
        "flood-rise|level-1": {"ts": ts60, "active": False, "window": [[1.0, 2.0, 3.0]]},
        "pileup|cluster-x": {"lon": 26.5, "lat": 42.5, "last_at": ts60},
        "pileup|cluster-1": [1, 2],
        "pileup|events": {
            "horizon": None,
            "next": 1,
            "events": [["e1", ts60, "collision", 999, 0]],
        },
        "no-separator": 1,
        "": None,
    }
    engine.restore_state(state, {})

    assert engine.sensor_state("level-1") is SensorState.ALARM
    assert engine.take_dirty_state() == {
        "": None,
        "flood-high|gone-sensor": None,
        "flood-rise|level-1": None,  # unreadable: gone; the next reading writes a new one
        "gone-rule|level-1": None,
        "no-separator": None,
        "offline|level-1": {"ts": ts60, "last_rx": None, "silent": False},
        "pileup|cluster-1": None,
        "pileup|cluster-x": None,
        "pileup|events": None,
    }
    assert feed(engine, [(30, 2.0), (60, 2.0)]) == []  # not newer than the restored time
    assert feed(engine, [(120, 2.6), (180, 2.4)]) == [(CLEARED, 180.0, "flood-high|level-1")]


def test_restore_replaces_the_whole_state() -> None:
    engine = make_engine(high())
    assert feed(engine, [(0, 3.0)]) == [(RAISED, 0.0, "flood-high|level-1")]
    engine.restore_state({}, {})
    assert engine.sensor_state("level-1") is SensorState.UNKNOWN
    assert engine.export_state() == {}
    assert feed(engine, [(0, 3.0)]) == [(RAISED, 0.0, "flood-high|level-1")]
