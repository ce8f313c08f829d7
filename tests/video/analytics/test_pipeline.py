"""CameraPipeline end to end: detection only when and where something moved, what a frame's
result carries, and counts against the exact ground truth of CityOps's own rendered street."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from cv2.typing import MatLike

from cityops.domain.analytics import (
    AnalyticsEventKind,
    AnalyticsZone,
    CameraAnalytics,
    CountLine,
    DetectorSpec,
    LineDirection,
    ObjectClass,
)
from cityops.domain.entities import Camera, LonLat
from cityops.video.analytics.detectors import BlobClassifier
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.analytics.types import AnalyticsEvent, Box, Detection
from cityops.video.synthetic import open_synthetic

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
BACKGROUND = np.random.default_rng(3).integers(60, 120, (240, 320, 3), dtype=np.uint8)


def camera(analytics: CameraAnalytics) -> Camera:
    return Camera("cam", "m", "Cam", LonLat(25.4, 42.6), 0.0, 60.0, 80.0, analytics=analytics)


class Spy(BlobClassifier):
    """The blob classifier, recording the regions it is asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[list[Box]] = []

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        self.calls.append(list(regions))
        return super().detect(frame, regions)


def walker(x: int) -> np.ndarray:  # type: ignore[type-arg]
    frame = BACKGROUND.copy()
    frame[100:160, x : x + 20] = 240  # a 20 x 60 "person" walking right
    return frame


def test_no_motion_no_detection_and_events_carry_their_boxes() -> None:
    spy = Spy()
    zone = AnalyticsZone("all", ((0, 0), (1, 0), (1, 1), (0, 1)))
    fence = CountLine("fence", (0.5, 0.0), (0.5, 1.0), classes=frozenset({ObjectClass.PERSON}))
    pipeline = CameraPipeline(
        camera(CameraAnalytics(zones=(zone,), lines=(fence,))),
        timezone="Europe/Sofia",
        detector=spy,
    )
    for i in range(5):
        result = pipeline.process(BACKGROUND, T0 + timedelta(seconds=i * 0.2))
        assert result.motion == ()
        assert result.events == ()
    assert spy.calls == []  # nothing moved: the detector never ran
    events: list[AnalyticsEvent] = []
    for i in range(20):
        result = pipeline.process(walker(60 + i * 10), T0 + timedelta(seconds=1 + i * 0.2))
        events += result.events
        assert spy.calls[-1] == list(result.motion)  # asked about the moving parts only
    assert len(spy.calls) == 20
    kinds = [(e.kind, e.track_id) for e in events]
    assert kinds == [
        (AnalyticsEventKind.MOTION, None),
        (AnalyticsEventKind.PERSON, 1),
        # the fence is at x = 160: walking right (down the line a->b, its left) is backward
        (AnalyticsEventKind.LINE_CROSSING, 1),
    ]
    crossing = events[-1]
    assert crossing.attributes["direction"] == LineDirection.BACKWARD.value
    (box,) = crossing.boxes
    assert box.center[0] == pytest.approx(0.5, abs=10 / 320)  # on the fence, give or take a step
    assert box.y1 == pytest.approx(100 / 240, abs=0.03)
    assert [o.track_id for o in result.objects] == [1]


@pytest.mark.parametrize(
    ("url", "a", "b"),
    [
        ("synthetic://street?seed=1&night=0", (0.35, 0.55), (0.35, 0.9)),
        ("synthetic://street?seed=2&night=0", (0.35, 0.55), (0.35, 0.9)),
        # the demo crossing's `all-lanes` line: cars come at the camera and drive away from it
        ("synthetic://crossing?seed=1&night=0", (0.21, 0.77), (0.79, 0.77)),
        ("synthetic://crossing?seed=2&night=0", (0.21, 0.77), (0.79, 0.77)),
    ],
)
def test_counts_on_rendered_scenes_match_their_ground_truth(
    url: str, a: tuple[float, float], b: tuple[float, float]
) -> None:
    """Two minutes of a rendered scene (day), 5 frames/s, the camera told it sees people and
    vehicles: per class and direction within 2 of the renderer's exact crossings (the blobs
    of a pedestrian and a car overlapping in the picture are the usual error)."""
    scene = open_synthetic(url, 640, 360)
    classes = frozenset({ObjectClass.PERSON, ObjectClass.VEHICLE})
    line = CountLine("l", a, b, classes=classes, interval_s=3600.0)
    analytics = CameraAnalytics(detector=DetectorSpec(classes=classes), lines=(line,))
    pipeline = CameraPipeline(camera(analytics), timezone="Europe/Sofia")
    t0 = T0.timestamp()
    got: Counter[tuple[str, ObjectClass | None]] = Counter()
    for k in range(600):
        t = t0 + k * 0.2
        for e in pipeline.process(scene.frame_at(t), datetime.fromtimestamp(t, UTC)).events:
            if e.kind is AnalyticsEventKind.LINE_CROSSING:
                got[(e.attributes["direction"], e.cls)] += 1
    total = 0
    for cls in classes:
        truth = scene.crossing_counts(a, b, t0 + 1.0, t0 + 120.0, [cls])
        for direction, n in truth.items():
            assert abs(got[(direction.value, cls)] - n) <= 2, (cls, direction, got, truth)
            total += n
    assert total >= 10  # the two minutes really have traffic


def test_the_rendered_accident_is_a_stopped_vehicle() -> None:
    """The demo crossing's scripted accident (every 20 min at :10): two cars stop in the
    junction at about 605 s and stay. The motion background is not learnt under tracked
    objects, so the stopped cars stay blobs and are reported once stopped_s has passed. The two
    cars touch, so the blob detector often sees one object: one event at least, none before."""
    url = "synthetic://crossing?seed=1&night=0&every=1200&offset=600"
    scene = open_synthetic(url, 640, 360)
    t0 = T0.timestamp()  # 10:00 UTC: the accident starts at t0 + 600
    stopped = [o for o in scene.truth_at(t0 + 620) if o.speed_mps == 0.0]
    assert [o.cls for o in stopped] == [ObjectClass.VEHICLE] * 2
    junction = AnalyticsZone(
        "junction",
        ((0.37, 0.48), (0.63, 0.48), (0.69, 0.60), (0.31, 0.60)),
        classes=frozenset({ObjectClass.VEHICLE}),
        stopped_s=30.0,
    )
    pipeline = CameraPipeline(camera(CameraAnalytics(zones=(junction,))), timezone="UTC")
    found = []
    for k in range(120 * 5):
        t = t0 + 560 + k * 0.2
        for e in pipeline.process(scene.frame_at(t), datetime.fromtimestamp(t, UTC)).events:
            if e.kind is AnalyticsEventKind.STOPPED_VEHICLE:
                found.append((t - t0, e.track_id, e.zone))
    assert found, "the stopped cars were not reported"
    assert len({tid for _, tid, _ in found}) == len(found)  # once per car
    assert all(zone == "junction" for _, _, zone in found)
    assert 635 <= found[0][0] <= 670, found  # 30 s after they stopped, give or take
