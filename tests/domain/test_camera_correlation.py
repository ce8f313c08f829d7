"""A correlation rule over cameras: one event is enough (min_count 1), only the named cameras
and zones count, and what two cameras of one crossing report about the same accident joins one
incident (one dedup key), while another place or a later accident is another incident. The
state survives a restart like any correlation's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cityops.domain.engine import RuleEngine
from cityops.domain.entities import Camera, LonLat, Municipality, Sector, Severity
from cityops.domain.geo import projection_for
from cityops.domain.observations import Event, EventSource
from cityops.domain.rules import CorrelationRule, RuleOutcome, TriggerKind

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
MUN = "kazanlak"
CENTER = LonLat(25.3992, 42.6163)
PROJECTION = projection_for(CENTER)
OUTCOME = RuleOutcome("road_accident", Sector.TRANSPORT, Severity.SEVERE, "Stopped in junction")


def camera(cid: str, dx: float, dy: float) -> Camera:
    return Camera(cid, MUN, cid, PROJECTION.to_lonlat(dx, dy), 135.0, 80.0, 150.0)


# two cameras on opposite corners of one crossing (110 m apart), one on a crossing 1 km away
NW, SE, FAR = camera("cam-nw", -40, 38), camera("cam-se", 38, -40), camera("cam-far", 1000, 0)
JUNCTION = CorrelationRule(
    id="junction",
    municipality=MUN,
    outcome=OUTCOME,
    kinds=("stopped_vehicle",),
    min_count=1,
    radius_m=150.0,
    window_s=600.0,
    cameras=("cam-nw", "cam-se", "cam-far"),
    zones=("junction",),
)


def engine() -> RuleEngine:
    return RuleEngine(
        Municipality(MUN, "Kazanlak", "Europe/Sofia", CENTER), [JUNCTION], [], [NW, SE, FAR]
    )


def stopped(eid: str, cam: Camera, seconds: float, zone: str | None = "junction") -> Event:
    ts = T0 + timedelta(seconds=seconds)
    return Event(MUN, eid, EventSource.CAMERA, cam.id, "stopped_vehicle", ts, None, zone, 0.6)


def keys(eng: RuleEngine, events: list[Event]) -> list[str]:
    out = []
    for event in events:
        for trigger in eng.on_event(event):
            assert trigger.kind is TriggerKind.RAISED
            out.append(trigger.dedup_key)
    return out


def test_both_cameras_of_a_crossing_report_one_accident() -> None:
    eng = engine()
    got = keys(eng, [stopped("a", NW, 20), stopped("b", SE, 35), stopped("c", NW, 80)])
    assert got == ["junction|cluster-1"] * 3  # each event joins the one incident


def test_another_place_or_a_later_accident_is_another_incident() -> None:
    eng = engine()
    got = keys(eng, [stopped("a", NW, 0), stopped("b", FAR, 10), stopped("c", SE, 20)])
    assert got == ["junction|cluster-1", "junction|cluster-2", "junction|cluster-1"]
    # 20 minutes later (beyond the 10-minute window): the next accident at the crossing
    assert keys(eng, [stopped("d", SE, 1220), stopped("e", NW, 1230)]) == ["junction|cluster-3"] * 2


def test_only_the_named_cameras_zones_and_kinds_count() -> None:
    eng = engine()
    other = Camera("cam-x", MUN, "x", PROJECTION.to_lonlat(0, 0), 0.0, 60.0, 80.0)
    events = [
        stopped("a", NW, 0, zone="street"),
        stopped("b", NW, 1, zone=None),
        Event(MUN, "c", EventSource.CAMERA, other.id, "stopped_vehicle", T0, None, "junction"),
        Event(MUN, "d", EventSource.EXTERNAL, "112", "stopped_vehicle", T0, CENTER, "junction"),
        Event(MUN, "e", EventSource.CAMERA, NW.id, "person", T0, None, "junction"),
    ]
    assert keys(eng, events) == []


def test_a_restart_keeps_the_accident_one_incident() -> None:
    first = engine()
    assert keys(first, [stopped("a", NW, 20)]) == ["junction|cluster-1"]
    second = engine()
    second.restore_state(first.export_state(), first.last_evaluated())
    assert keys(second, [stopped("b", SE, 40)]) == ["junction|cluster-1"]
