"""Camera health from real frames: streams made from the real clips by covering the lens,
defocusing, turning the camera away and freezing the picture yield exactly the matching event
(then ``camera_restored`` when the picture is healthy again); the untouched clips yield none.

The clips are the fixed cameras of ../shared/data/video (PETS 2009 and the two highway clips),
read at the worker's 5 frames/s. The two Intel sample clips are edited montages (cuts between
shots), which is what "the view moved" means, so they are not healthy references."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.analytics import AnalyticsEventKind as K
from cityops.domain.analytics import TamperSpec
from cityops.video.masking import Frame
from cityops.video.tamper import TamperDetector

FIXED_CAMERAS = (
    "pets2009_s2l1_vtest_480x360.avi",
    "highway_cctv_video02.avi",
    "highway_cdnet_video03.avi",
)
FPS = 5.0
HOLD_S = 2.0
T0 = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
BEFORE, DURING, AFTER = 20, 30, 30
"""Frames (at 5/s) healthy, tampered, healthy again: 4 s, 6 s, 6 s."""


def clip_frames(path: Path, n: int) -> list[Frame]:
    """The first ``n`` frames of the clip as the worker samples it, 5 a second."""
    cap = cv2.VideoCapture(str(path))
    step = max(1, round(cap.get(cv2.CAP_PROP_FPS) / FPS))
    frames: list[Frame] = []
    index = 0
    while len(frames) < n:
        ok, frame = cap.read()
        assert ok, f"{path.name} has fewer than {n} frames at {FPS}/s"
        if index % step == 0:
            frames.append(frame)
        index += 1
    cap.release()
    return frames


def covered(frame: Frame) -> Frame:
    """A hand over the lens: nearly black, a little sensor noise."""
    rng = np.random.default_rng(0)
    return np.asarray(rng.integers(8, 16, frame.shape), dtype=np.uint8)


def defocused(frame: Frame) -> Frame:
    return cv2.GaussianBlur(frame, (0, 0), 4)


def moved(frame: Frame) -> Frame:
    """Turned away: the picture shifted by a quarter of its width (edges mirrored, no black)."""
    h, w = frame.shape[:2]
    shift = np.float32([[1, 0, w // 4], [0, 1, h // 10]])
    return cv2.warpAffine(frame, shift, (w, h), borderMode=cv2.BORDER_REFLECT)


Transform = Callable[[Frame], Frame]


SPEC = TamperSpec(hold_s=HOLD_S)


def run(frames: list[Frame], spec: TamperSpec = SPEC) -> list[K]:
    detector = TamperDetector(spec, started=T0)
    events = []
    for k, frame in enumerate(frames):
        ts = T0 + timedelta(seconds=k / FPS)
        events += detector.observe(frame, ts)
        events += detector.tick(ts)
    return [e.kind for e in events]


@pytest.fixture(params=FIXED_CAMERAS)
def frames(request: pytest.FixtureRequest, shared_data: Path) -> list[Frame]:
    return clip_frames(shared_data / "video" / request.param, BEFORE + DURING + AFTER)


def test_a_healthy_clip_yields_no_event(frames: list[Frame]) -> None:
    assert run(frames) == []


@pytest.mark.parametrize(
    ("transform", "kind"),
    [(covered, K.CAMERA_COVERED), (defocused, K.CAMERA_DEFOCUSED), (moved, K.CAMERA_MOVED)],
    ids=["covered", "defocused", "moved"],
)
def test_tampering_yields_exactly_its_event_then_restored(
    frames: list[Frame], transform: Transform, kind: K
) -> None:
    stream = [transform(f) if BEFORE <= k < BEFORE + DURING else f for k, f in enumerate(frames)]
    assert run(stream) == [kind, K.CAMERA_RESTORED]


def test_a_frozen_picture_yields_frozen_then_restored(frames: list[Frame]) -> None:
    stream = [frames[BEFORE] if BEFORE <= k < BEFORE + DURING else f for k, f in enumerate(frames)]
    assert run(stream) == [K.CAMERA_FROZEN, K.CAMERA_RESTORED]


def test_a_short_disturbance_is_not_reported(frames: list[Frame]) -> None:
    """A truck passing close to the lens for one second: shorter than hold_s, no event."""
    stream = [covered(f) if BEFORE <= k < BEFORE + 5 else f for k, f in enumerate(frames)]
    assert run(stream) == []


def test_no_frames_is_offline_then_restored(frames: list[Frame]) -> None:
    detector = TamperDetector(TamperSpec(hold_s=HOLD_S), started=T0, offline_after_s=3.0)
    kinds = []
    for k, frame in enumerate(frames[:10]):
        kinds += detector.observe(frame, T0 + timedelta(seconds=k / FPS))
    silent = T0 + timedelta(seconds=2)
    for s in range(1, 9):  # 8 s without a frame: offline after 3 s, reported 2 s later
        kinds += detector.tick(silent + timedelta(seconds=s))
    back = silent + timedelta(seconds=9)
    for k, frame in enumerate(frames[10:40]):
        ts = back + timedelta(seconds=k / FPS)
        kinds += detector.observe(frame, ts) + detector.tick(ts)
    assert [e.kind for e in kinds] == [K.CAMERA_OFFLINE, K.CAMERA_RESTORED]
    assert kinds[0].ts == silent + timedelta(seconds=5)


def test_disabled_tamper_detection_says_nothing(frames: list[Frame]) -> None:
    assert run([covered(f) for f in frames], TamperSpec(enabled=False, hold_s=HOLD_S)) == []
