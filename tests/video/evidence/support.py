"""What the evidence tests share: a camera over a rendered street, its frames fed to a
recorder at the analysis rate, clips decoded back with PyAV, and how much fine detail survives."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
from numpy.typing import NDArray

from cityops.domain.analytics import AnalyticsEventKind, ObjectClass
from cityops.domain.entities import Camera
from cityops.video.analytics.types import AnalyticsEvent, Box
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.synthetic import SyntheticScene, open_synthetic
from tests.video.worker.worker_support import camera

Image = NDArray[Any]
STREET = "synthetic://street?seed=1"
T0 = 1_900_000_000.0
"""Scene time of the first frame (epoch seconds)."""
MASK = ((0.05, 0.05), (0.45, 0.05), (0.45, 0.6), (0.05, 0.6))


def masked_camera(style_masks: bool = True) -> Camera:
    cam = camera("cam-evidence")
    return dataclasses.replace(cam, privacy_masks=(MASK,) if style_masks else ())


def at(t: float) -> datetime:
    return datetime.fromtimestamp(T0 + t, UTC)


BOX = Box(0.5, 0.4, 0.7, 0.9)


def event(t: float, box: Box = BOX) -> AnalyticsEvent:
    return AnalyticsEvent(
        AnalyticsEventKind.PERSON, at(t), track_id=7, cls=ObjectClass.PERSON, boxes=(box,)
    )


class Feed:
    """A recorder fed the rendered street at ``fps`` frames a second from scene time T0."""

    def __init__(self, root: Path, cam: Camera, *, fps: float = 5.0, **config: float) -> None:
        self.scene: SyntheticScene = open_synthetic(STREET)
        self.fps = fps
        self.recorder = EvidenceRecorder(cam, fps, EvidenceConfig(root, **config))  # type: ignore[arg-type]
        self.k = 0
        self.picture: Image | None = None

    def t(self, k: int) -> float:
        return k / self.fps

    def original(self, t: float) -> Image:
        return np.asarray(self.scene.frame_at(T0 + t))

    def until(self, t_end: float) -> None:
        while self.t(self.k) <= t_end + 1e-9:
            t = self.t(self.k)
            self.picture = np.asarray(self.recorder.frame(self.original(t), at(t)))
            self.k += 1


def decode(path: Path) -> tuple[list[Image], list[float], av.video.stream.VideoStream]:
    """Every frame of an MP4 as BGR, with its time in seconds from the first, and its stream."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames, times = [], []
        for f in container.decode(stream):
            frames.append(f.to_ndarray(format="bgr24"))
            assert f.pts is not None
            assert stream.time_base is not None
            times.append(float(f.pts * stream.time_base))
    return frames, [x - times[0] for x in times], stream


def best_time(frame: Image, feed: Feed, candidates: Sequence[float]) -> float:
    """The scene time whose (masked) frame ``frame`` is closest to."""
    errors = []
    for t in candidates:
        errors.append(float(np.mean(np.abs(frame.astype(int) - feed.original(t).astype(int)))))
    return candidates[int(np.argmin(errors))]


def detail_correlation(a: Image, b: Image) -> float:
    """How much of ``a``'s fine detail ``b`` still has: correlation of their high-pass images."""

    def high_pass(img: Image) -> Image:
        gray = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY).astype(np.float32)
        return gray - cv2.GaussianBlur(gray, (0, 0), 2)

    ha, hb = high_pass(a).ravel(), high_pass(b).ravel()
    if float(hb.std()) < 1e-6:
        return 0.0
    return float(np.corrcoef(ha, hb)[0, 1])


def region(img: Image, poly: Sequence[tuple[float, float]], margin: float = 0.03) -> Image:
    """The part of ``img`` well inside the axis-aligned polygon ``poly`` (image fractions)."""
    h, w = img.shape[:2]
    xs, ys = [p[0] for p in poly], [p[1] for p in poly]
    x1, x2 = int((min(xs) + margin) * w), int((max(xs) - margin) * w)
    y1, y2 = int((min(ys) + margin) * h), int((max(ys) - margin) * h)
    return img[y1:y2, x1:x2]
