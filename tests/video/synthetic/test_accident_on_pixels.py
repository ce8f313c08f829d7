"""The demo's crossing accident, seen by the analytics on the rendered pixels: each crossing
camera's own analytics block (kazanlak.yaml) through ``CameraPipeline`` at its analysis rate,
on its ``demo_stream_url``; times from the scene's ground truth. The live demo's accident
incidents come only from this (the simulator publishes none).

Measured on 20 script runs per camera (every 7th run of the 20-minute schedule and every 7th
from the 3rd, day and night, each camera started 60 s before the script), with the junction's
stopped_s of 20 s: ``stopped_vehicle`` in ``junction`` within 60 s of the stop in 36 of 40
camera runs (30 before the held-object changes of hold.py), mostly 20 s after the cars stop,
and each accident by at least one of the two cameras. A camera misses a run when the cars meet
and stop as one blob with the passing traffic or (at night) only their headlights' glow is
tracked, outside the zone. Both cameras' reports of one accident join one incident (the
junction rule is a correlation of the two cameras, 150 m, 10 min)."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, Polygon

from cityops.config import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import ObjectClass
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Severity
from cityops.domain.rules import TriggerKind
from cityops.video.analytics.types import AnalyticsEvent
from cityops.video.synthetic import SyntheticScene

from .support import demo_camera, stopped_events, triggers

CAMERAS = ["cam-rozova-23polk-nw", "cam-rozova-23polk-se"]
SEEN = 42_600.0
"""A daytime run of the accident script (11:50 UTC) that both cameras report."""


@pytest.fixture(scope="module")
def demo() -> MunicipalityConfig:
    return load_config(DEMO_CONFIG)


def _stops(scene: SyntheticScene, start: float) -> float:
    """When the script's cars stand still, from the ground truth."""
    t = start
    while not [o for o in scene.truth_at(t) if o.cls is ObjectClass.VEHICLE and o.speed_mps == 0]:
        t += 0.5
    return t


@pytest.fixture(scope="module")
def seen(demo: MunicipalityConfig) -> dict[str, tuple[float, list[AnalyticsEvent]]]:
    """Per crossing camera, from five quiet minutes before the ``SEEN`` run to 45 s after the
    report is due: when the cars stopped (ground truth) and the stopped_vehicle events."""
    out = {}
    for camera_id in CAMERAS:
        camera, scene = demo_camera(demo, camera_id)
        stop = _stops(scene, SEEN)
        out[camera_id] = (stop, stopped_events(camera, scene, SEEN - 300.0, stop + 65.0))
    return out


@pytest.mark.parametrize("camera_id", CAMERAS)
def test_the_accident_is_a_stopped_vehicle_in_the_junction_and_nothing_stops_before(
    demo: MunicipalityConfig,
    seen: dict[str, tuple[float, list[AnalyticsEvent]]],
    camera_id: str,
) -> None:
    """Five quiet minutes, then the accident. No red-light queue exists in this scene (each
    stream passes the junction in its own green window at its one speed): the ground truth has
    no vehicle standing in the junction before the script, so any stopped_vehicle there would
    be false."""
    camera, scene = demo_camera(demo, camera_id)
    assert camera.analytics is not None
    (junction,) = camera.analytics.zones
    assert junction.stopped_s is not None
    assert scene.script_starts(SEEN - 300.0, SEEN + 1.0) == [SEEN]
    zone = Polygon(junction.polygon)
    for second in range(int(SEEN) - 300, int(SEEN)):
        assert not [
            o
            for o in scene.truth_at(float(second))
            if o.cls is ObjectClass.VEHICLE and o.speed_mps == 0 and zone.contains(Point(o.foot))
        ]
    stop, found = seen[camera_id]
    assert 9.0 <= stop - SEEN <= 11.0  # the script's cars meet at +10 s
    assert found, "the stopped cars were not reported"
    assert {e.zone for e in found} == {"junction"}
    assert 1 <= len(found) <= 2  # once per car (the touching cars are often one blob)
    delay = found[0].ts.timestamp() - stop
    assert junction.stopped_s <= delay <= junction.stopped_s + 40.0, delay


def test_both_cameras_reports_of_the_accident_open_one_road_accident_incident(
    demo: MunicipalityConfig, seen: dict[str, tuple[float, list[AnalyticsEvent]]]
) -> None:
    """The events as the worker publishes them, decoded by ingest, through the demo's rules:
    the junction rule (a correlation of the two crossing cameras' junction zones, 150 m, 10 min,
    one event enough) raises a severe road accident for each event, all with one dedup key, so
    one incident; the older correlation rule (three events of the accident's kinds near each
    other) does not fire on these."""
    events = [(demo_camera(demo, c)[0], e) for c in CAMERAS for e in seen[c][1]]
    assert {camera.id for camera, _ in events} == set(CAMERAS)  # both saw it
    raised = triggers(demo, events)
    assert len(raised) == len(events)
    assert {t.rule_id for t in raised} == {"junction-stopped-vehicle"}
    assert {(t.kind, t.outcome.incident_type, t.outcome.severity) for t in raised} == {
        (TriggerKind.RAISED, "road_accident", Severity.SEVERE)
    }
    assert len({t.dedup_key for t in raised}) == 1  # one incident for the crossing


RUNS = [600.0 + 1200.0 * k for k in range(0, 70, 7)]
"""Ten runs of the accident script (every 7th of the 20-minute schedule: day and night)."""


def test_the_stopped_cars_are_reported_in_most_runs_and_every_accident_by_a_camera(
    demo: MunicipalityConfig,
) -> None:
    """Both crossing cameras on ten accidents, each camera started 60 s before the script (its
    background learnt on the traffic before): ``stopped_vehicle`` in ``junction`` within 60 s
    of the stop in at least 17 of the 20 camera runs, at most twice per run (once per car),
    and every accident reported by at least one camera, so the junction rule opens an incident
    for each. Measured on these 20 runs: 18 (the north-west camera misses the 34,200 and 76,200 s
    runs); on 40 runs (these and every 7th from the 3rd): 36 within 60 s, every accident by a
    camera; before the held-object changes of hold.py and the tracker's changes: 30 of 40."""
    reported, accidents = 0, set()
    for camera_id in CAMERAS:
        camera, scene = demo_camera(demo, camera_id)
        for start in RUNS:
            stop = _stops(scene, start)
            found = stopped_events(camera, scene, start - 60.0, stop + 60.0)
            assert len(found) <= 2, (camera_id, start, found)
            assert {e.zone for e in found} <= {"junction"}
            if found and found[0].ts.timestamp() - stop >= 0.0:
                reported += 1
                accidents.add(start)
    assert reported >= 17
    assert accidents == set(RUNS)
