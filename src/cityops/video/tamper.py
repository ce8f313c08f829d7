"""Camera health from the frames themselves: offline, frozen, covered, defocused, moved.

Every analysed frame is reduced to a small grayscale image (``WIDTH`` pixels wide) and judged
against what the camera showed while it was healthy:

- **covered**: the picture is nearly uniform (standard deviation of the small image below
  ``COVERED_STD`` grey levels, or below ``COVERED_RATIO`` of the camera's learned contrast): a
  hand, a bag, spray paint, a lens cap, a dead sensor;
- **frozen**: consecutive frames are identical (mean absolute difference below ``FROZEN_DIFF``
  grey levels): a stuck encoder or a stream replaying one frame;
- **moved**: phase correlation against the reference frame finds a shift larger than
  ``MOVED_SHIFT`` of the image, or no correlation at all (response below ``MOVED_RESPONSE``):
  the camera was turned away from what it watches;
- **defocused**: the sharpness (variance of the Laplacian) collapsed below ``DEFOCUS_RATIO`` of
  the camera's learned reference: the focus ring turned, the dome smeared;
- **offline**: no frame for ``offline_after_s``.

One condition at a time, the most specific first (a covered lens is also blurred and "moved").
A condition is reported once, as its ``AnalyticsEventKind`` (``domain.analytics.CAMERA_HEALTH``
maps it to the camera health shown), after it lasted ``hold_s``; a camera that had a reported
condition and then looks healthy for ``hold_s`` is reported restored. The
references (frame and sharpness) are learned during the first ``WARMUP`` healthy frames and follow
slow changes (light) only while the camera is healthy.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2
import numpy as np

from cityops.domain.analytics import AnalyticsEventKind, TamperSpec
from cityops.video.analytics.types import AnalyticsEvent
from cityops.video.masking import Frame

WIDTH = 160
COVERED_STD = 5.0
COVERED_RATIO = 0.2
FROZEN_DIFF = 0.05
MOVED_SHIFT = 0.12
MOVED_RESPONSE = 0.05
DEFOCUS_RATIO = 0.35
WARMUP = 5
REFERENCE_ALPHA = 0.02
"""How fast the references follow a healthy picture (per analysed frame)."""

Condition = AnalyticsEventKind | None
"""One of the CAMERA_* kinds, or None for a healthy picture."""


@dataclass(frozen=True, slots=True)
class FrameMeasures:
    std: float
    diff: float | None
    """Mean absolute difference to the previous frame (None for the first)."""
    sharpness: float
    shift: float | None
    """Shift against the reference as a fraction of the image (None before a reference)."""
    response: float | None


def small_gray(frame: Frame) -> np.ndarray:  # type: ignore[type-arg]
    h, w = frame.shape[:2]
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    size = (WIDTH, max(1, round(h * WIDTH / w)))
    return np.asarray(cv2.resize(gray, size, interpolation=cv2.INTER_AREA), dtype=np.float32)


def sharpness(gray: np.ndarray) -> float:  # type: ignore[type-arg]
    return float(cv2.Laplacian(gray, cv2.CV_32F).var())


class TamperDetector:
    """One camera's picture health; feed it every analysed frame (``observe``) and call
    ``tick`` regularly (it notices a camera that stopped sending frames)."""

    def __init__(
        self, spec: TamperSpec, *, started: datetime, offline_after_s: float = 5.0
    ) -> None:
        self.spec = spec
        self.offline_after_s = offline_after_s
        self._hold = timedelta(seconds=spec.hold_s)
        self._last_frame_at = started
        self._prev: np.ndarray | None = None  # type: ignore[type-arg]
        self._ref: np.ndarray | None = None  # type: ignore[type-arg]
        self._ref_sharpness = 0.0
        self._ref_std = 0.0
        self._healthy_frames = 0
        self._window: np.ndarray | None = None  # type: ignore[type-arg]
        self._condition: Condition = None
        self._since = started
        self._reported: Condition = None

    @property
    def reported(self) -> Condition:
        """The condition last reported (None: healthy, or nothing reported yet)."""
        return self._reported

    def measure(self, frame: Frame) -> tuple[FrameMeasures, np.ndarray]:  # type: ignore[type-arg]
        gray = small_gray(frame)
        diff = None
        if self._prev is not None and self._prev.shape == gray.shape:
            diff = float(np.mean(np.abs(gray - self._prev)))
        shift = response = None
        if self._ref is not None and self._ref.shape == gray.shape:
            if self._window is None or self._window.shape != gray.shape:
                self._window = cv2.createHanningWindow(gray.shape[::-1], cv2.CV_32F)
            # phaseCorrelate applies the window to its inputs in place: hand it copies
            (dx, dy), response = cv2.phaseCorrelate(self._ref.copy(), gray.copy(), self._window)
            h, w = gray.shape
            shift = math.hypot(dx / w, dy / h)
        return FrameMeasures(float(gray.std()), diff, sharpness(gray), shift, response), gray

    def classify(self, m: FrameMeasures) -> Condition:
        if m.std < max(COVERED_STD, COVERED_RATIO * self._ref_std):
            return AnalyticsEventKind.CAMERA_COVERED
        if m.diff is not None and m.diff < FROZEN_DIFF:
            return AnalyticsEventKind.CAMERA_FROZEN
        if m.shift is not None and (m.shift > MOVED_SHIFT or (m.response or 0.0) < MOVED_RESPONSE):
            return AnalyticsEventKind.CAMERA_MOVED
        if self._healthy_frames >= WARMUP and m.sharpness < DEFOCUS_RATIO * self._ref_sharpness:
            return AnalyticsEventKind.CAMERA_DEFOCUSED
        return None

    def observe(self, frame: Frame, ts: datetime) -> list[AnalyticsEvent]:
        """Judge one frame; returns the health events to publish (usually none)."""
        self._last_frame_at = ts
        if not self.spec.enabled:
            return []
        measures, gray = self.measure(frame)
        condition = self.classify(measures)
        self._prev = gray
        if condition is None:
            self._learn(gray, measures)
        return self._judge(condition, ts)

    def tick(self, now: datetime) -> list[AnalyticsEvent]:
        """Without a frame for ``offline_after_s`` the camera is offline (reported after hold)."""
        if now - self._last_frame_at < timedelta(seconds=self.offline_after_s):
            return []
        return self._judge(AnalyticsEventKind.CAMERA_OFFLINE, now)

    def _learn(self, gray: np.ndarray, m: FrameMeasures) -> None:  # type: ignore[type-arg]
        self._healthy_frames += 1
        if self._ref is None or self._ref.shape != gray.shape:
            self._ref, self._ref_sharpness, self._ref_std = gray.copy(), m.sharpness, m.std
            return
        # learn fast at first (the mean of the warm-up), then follow slow changes (dusk, weather)
        k = 1.0 / self._healthy_frames if self._healthy_frames <= WARMUP else REFERENCE_ALPHA
        self._ref_sharpness += k * (m.sharpness - self._ref_sharpness)
        self._ref_std += k * (m.std - self._ref_std)
        if self._healthy_frames > WARMUP:
            cv2.accumulateWeighted(gray, self._ref, REFERENCE_ALPHA)

    def _judge(self, condition: Condition, ts: datetime) -> list[AnalyticsEvent]:
        if condition != self._condition:
            self._condition, self._since = condition, ts
        if condition == self._reported or ts - self._since < self._hold:
            return []
        if condition is None:  # healthy long enough after a reported condition
            self._reported = None
            return [AnalyticsEvent(AnalyticsEventKind.CAMERA_RESTORED, ts, confidence=1.0)]
        self._reported = condition
        return [AnalyticsEvent(condition, ts, confidence=1.0)]
