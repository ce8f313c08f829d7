"""From pixels to an incident, live: the real video worker analyses the demo's rendered crossing
(both cameras) and school yard at wall-clock time, publishes over a real Mosquitto, and the
running control center's ingest and rules open the incidents. The accident seen by both crossing
cameras opens exactly one road accident; the night intruder in the school yard opens one
intrusion incident, which every event of the visit joins.

The scenes' scripts are scheduled at UNIX times (``at=``), so the test starts them 40 s after
the worker starts: the cameras first learn their background on the passing traffic. A camera
misses some runs of the accident (tests/video/synthetic/test_accident_on_pixels.py: the cars
stop as one blob with passing traffic), and which depends on the traffic at that moment, so the
test schedules the accident at a moment when the same analytics, replayed offline on the same
rendered frames, see it from both cameras: the live path must then see it from at least one.
The yard is
rendered at night (``night=1``), but the zone's schedule and the rule's ``between`` (22:00-06:00
local time) would keep the intruder out of a daytime test run, so this copy of the demo's
configuration watches the yard at all hours; everything else is the demo's (kazanlak.yaml)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import select

from cityops.app import ControlCenter
from cityops.config.loader import load_config
from cityops.data import DEMO_CONFIG
from cityops.store import tables as t
from cityops.video.worker import CameraJob, VideoWorker
from tests.harness import MosquittoServer
from tests.town import start_center
from tests.video.synthetic.support import demo_camera, stopped_events
from tests.video.worker.worker_support import wait_for

CROSSING = ("cam-rozova-23polk-nw", "cam-rozova-23polk-se")
SCHOOL = "cam-eg-yard"
LEAD_S = 40
"""Seconds from the worker's start to the scripts' start."""


def demo_now(tmp_path: Path, start: int) -> Path:
    """The demo's configuration with the crossing's accident and the school's intruder scripted
    at ``start`` (UNIX seconds; day at the crossing, night in the yard) and the yard watched at
    all hours."""
    text = Path(DEMO_CONFIG).read_text(encoding="utf-8")
    swaps = [
        ("night=auto&tz=Europe/Sofia&every=1200&offset=600", f"night=0&at={start}", 2),
        ("seed=3&night=auto&tz=Europe/Sofia&every=1800&offset=0", f"seed=3&night=1&at={start}", 1),
        ('          schedule: ["22:00-06:00"]\n          loiter_s: 1min\n', "", 1),
        ('    zones: [school-yard]\n    between: "22:00-06:00"\n', "    zones: [school-yard]\n", 1),
    ]
    for old, new, count in swaps:
        assert text.count(old) == count, old
        text = text.replace(old, new)
    path = tmp_path / "kazanlak-now.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def accident_seen_offline(tmp_path: Path, start: int) -> bool:
    """Whether both crossing cameras' analytics, run offline on the frames rendered for a script
    at ``start`` from when the worker starts (a few seconds later too), report the stopped
    cars within a minute of their stop."""
    config = load_config(demo_now(tmp_path, start))
    for camera_id in CROSSING:
        camera, scene = demo_camera(config, camera_id)
        stop = start + 10.0  # the script's cars meet at +10 s
        for late in (0.0, 4.0):
            if not stopped_events(camera, scene, start - LEAD_S + late, stop + 60.0):
                return False
    return True


def seen_start(tmp_path: Path) -> int:
    """The first of the next moments (far enough ahead to start the worker ``LEAD_S`` before)
    at which :func:`accident_seen_offline`."""
    for _ in range(20):
        start = int(time.time()) + LEAD_S + 20
        if accident_seen_offline(tmp_path, start):
            return start
    raise AssertionError("no moment in the next minutes when both cameras see the accident")


def incidents(center: ControlCenter, kind: str) -> list[dict[str, object]]:
    with center.db.connect() as conn:
        rows = conn.execute(
            select(t.incidents).where(
                t.incidents.c.municipality == "kazanlak", t.incidents.c.type == kind
            )
        )
        return [dict(r._mapping) for r in rows]


def events(center: ControlCenter, kind: str) -> list[dict[str, object]]:
    with center.db.connect() as conn:
        rows = conn.execute(
            select(t.events).where(t.events.c.municipality == "kazanlak", t.events.c.kind == kind)
        )
        return [dict(r._mapping) for r in rows]


@pytest.mark.mosquitto
def test_the_rendered_accident_and_intruder_open_one_incident_each(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    start = seen_start(tmp_path)
    config_path = demo_now(tmp_path, start)
    config = load_config(config_path)
    center = start_center(tmp_path, also=[config_path], mqtt_url=mosquitto.url)
    time.sleep(max(0.0, start - LEAD_S - time.time()))
    jobs = []
    for camera_id in (*CROSSING, SCHOOL):
        camera = config.camera(camera_id)
        assert camera is not None
        assert camera.demo_stream_url is not None
        jobs.append(CameraJob(camera, camera.demo_stream_url))
    worker = VideoWorker(jobs, mosquitto.url, worker_id="pixels")
    worker.start()
    try:
        # the intruder steps in 21-34 s after the script starts; the cars stop at +10 s and
        # are reported 20 s (stopped_s) to a minute later
        assert wait_for(lambda: len(incidents(center, "intrusion")) >= 1, LEAD_S + 90, 0.5)
        assert wait_for(lambda: len(incidents(center, "road_accident")) >= 1, LEAD_S + 140, 0.5)
        # both cameras have had their time to report the stopped cars (10 s + 90 s)
        time.sleep(max(0.0, start + 100 - time.time()))
    finally:
        worker.stop()
        center.stop()
    (accident,) = incidents(center, "road_accident")
    assert accident["rule_id"] == "junction-stopped-vehicle"
    stopped = events(center, "stopped_vehicle")
    assert {e["zone"] for e in stopped} == {"junction"}
    assert {e["source_id"] for e in stopped} <= set(CROSSING)
    assert accident["event_count"] == len(stopped)  # every camera's report joined it
    (intrusion,) = incidents(center, "intrusion")
    assert intrusion["rule_id"] == "school-night-intrusion"
    seen = events(center, "intrusion") + events(center, "loitering")
    assert [e["kind"] for e in seen if e["kind"] == "intrusion"] == ["intrusion"]  # one visit
    assert {e["source_id"] for e in seen} == {SCHOOL}
    assert intrusion["event_count"] == len(seen)
