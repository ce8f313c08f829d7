"""The analytics pipeline on the demo's rendered school yard at night: the intruder the scene
script sends in is reported as an intrusion in the yard zone soon after the ground truth says
they crossed into it, and nobody is reported before (the passers-by stay on the pavement)."""

from __future__ import annotations

from datetime import UTC, datetime

from cityops.config import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.analytics import AnalyticsEventKind, LineDirection, ObjectClass
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.synthetic import open_synthetic

NIGHT = 1_764_021_600.0
"""2025-11-24 22:00 UTC: midnight in Kazanlak, inside the yard zone's schedule."""


def test_the_rendered_intruder_is_reported_as_an_intrusion_in_the_yard() -> None:
    camera = load_config(DEMO_CONFIG).camera("cam-eg-yard")
    assert camera is not None
    assert camera.analytics is not None
    assert camera.demo_stream_url is not None
    scene = open_synthetic(camera.demo_stream_url)
    assert scene.is_night(NIGHT)
    (yard,) = camera.analytics.zones
    start = scene.script_starts(NIGHT, NIGHT + 3600.0)[0]
    top = min(y for _, y in yard.polygon)
    entries = [
        c
        for c in scene.crossings((0.0, top), (1.0, top), start, start + 120.0, {ObjectClass.PERSON})
        if c.direction is LineDirection.FORWARD  # down the picture: into the yard
    ]
    entered = entries[0].t

    pipeline = CameraPipeline(camera, timezone="Europe/Sofia")
    intrusions = []
    t = start - 30.0
    while t < entered + 30.0:
        result = pipeline.process(scene.frame_at(t), datetime.fromtimestamp(t, UTC))
        intrusions += [e for e in result.events if e.kind is AnalyticsEventKind.INTRUSION]
        t += 1.0 / camera.analytics.fps
    assert intrusions
    first = intrusions[0]
    assert first.zone == "school-yard"
    assert entered <= first.ts.timestamp() <= entered + 20.0
