"""Motion on a small grayscale frame: where something moved, so detection runs only there.

The frame is shrunk to ``height`` rows (bilinear: each pixel the mean of four neighbours; area
interpolation costs several times more for no better counts on the clips), blurred,
and compared with a running-average background (learnt ten times slower where something is
moving, so moving objects leave no ghost trail). The difference is thresholded, opened (isolated
speckles go) and dilated (the parts of one object join); the connected parts become boxes, and
boxes that overlap are merged into motion regions.

A sudden global change of light (a cloud, headlights, the camera's day/night switch) changes most
pixels at once: when more than ``recalibrate_frac`` of the image differs, the background is reset
to the current frame and no motion is reported, instead of motion everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from cv2.typing import MatLike

from cityops.video.analytics.types import Box

_KERNEL_3 = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, slots=True)
class MotionConfig:
    height: int = 120
    """Rows of the analysed frame (the width keeps the aspect ratio)."""
    threshold: int = 20
    """Grey-level difference from the background that counts as changed."""
    alpha: float = 0.05
    """Weight of each new frame in the background (0.05 at 5 frames/s: a time constant of 4 s)."""
    foreground_rate: float = 0.1
    """Pixels that differ from the background and from the previous frame (moving) are learnt
    at this fraction of ``alpha``."""
    min_area: float = 0.0004
    """Smallest motion part kept, as a fraction of the image area."""
    dilate: int = 2
    """Dilation iterations that join the parts of one moving object."""
    merge_overlap: float = 0.5
    """Parts whose boxes overlap by more than this (of the smaller box) are one region; cars side
    by side, whose boxes only touch, stay two."""
    recalibrate_frac: float = 0.5
    """More than this fraction of pixels changed at once: a light change, not motion."""


@dataclass(frozen=True, slots=True)
class Motion:
    regions: tuple[Box, ...]
    changed_frac: float
    """Fraction of the image that differs from the background."""
    recalibrated: bool = False


def _area(b: Box) -> float:
    return max(0.0, b.x2 - b.x1) * max(0.0, b.y2 - b.y1)


def _overlap_of_smaller(a: Box, b: Box) -> float:
    """The intersection as a fraction of the smaller box (1.0: one lies inside the other)."""
    iw = min(a.x2, b.x2) - max(a.x1, b.x1)
    ih = min(a.y2, b.y2) - max(a.y1, b.y1)
    if iw < 0 or ih < 0:
        return -1.0
    smaller = min(_area(a), _area(b))
    return iw * ih / smaller if smaller > 0 else 1.0


def merge_boxes(boxes: Sequence[Box], min_overlap: float = 0.0) -> list[Box]:
    """Union of boxes whose intersection is more than ``min_overlap`` of the smaller one
    (0.0: any that touch), repeated until none are left to merge."""
    merged = list(boxes)
    changed = True
    while changed:
        changed = False
        out: list[Box] = []
        for box in merged:
            for i, other in enumerate(out):
                if _overlap_of_smaller(box, other) >= min_overlap:
                    out[i] = Box(
                        min(box.x1, other.x1),
                        min(box.y1, other.y1),
                        max(box.x2, other.x2),
                        max(box.y2, other.y2),
                    )
                    changed = True
                    break
            else:
                out.append(box)
        merged = out
    return merged


class MotionDetector:
    """One camera's background model; ``detect`` is called with each analysed frame."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._background: MatLike | None = None
        self._previous: MatLike | None = None
        self._changed: MatLike | None = None
        self._size: tuple[int, int] = (0, 0)
        self._frame_size: tuple[int, int] = (0, 0)

    def reset(self) -> None:
        self._background = self._previous = self._changed = None

    def changed_area(self, box: Box) -> float:
        """How much of ``box`` differed from the background in the latest frame, as a
        fraction of the image (0.0 before there is a background, and after a recalibration)."""
        if self._changed is None:
            return 0.0
        h, w = int(self._changed.shape[0]), int(self._changed.shape[1])
        x1, y1 = max(0, int(box.x1 * w)), max(0, int(box.y1 * h))
        x2, y2 = min(w, int(np.ceil(box.x2 * w))), min(h, int(np.ceil(box.y2 * h)))
        if x2 <= x1 or y2 <= y1:
            return 0.0
        return float(cv2.countNonZero(self._changed[y1:y2, x1:x2])) / (w * h)

    def small_gray(self, frame: MatLike) -> MatLike:
        """The frame shrunk to the analysed size and turned grey (then lightly blurred)."""
        h, w = frame.shape[:2]
        if (w, h) != self._frame_size:  # a new stream resolution: a new background too
            height = min(self.config.height, h)
            self._size, self._frame_size = (max(1, round(w * height / h)), height), (w, h)
            self._background = self._previous = None
        small = cv2.resize(frame, self._size, interpolation=cv2.INTER_LINEAR)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return cv2.GaussianBlur(small, (3, 3), 0)

    def detect(self, frame: MatLike, hold: Sequence[Box] = ()) -> Motion:
        """Motion regions of ``frame``; the background is not learnt inside ``hold`` (the
        objects being tracked), so a car that stops stays a region instead of fading away."""
        cfg = self.config
        gray = self.small_gray(frame)
        self._changed = None
        if self._background is None or self._background.shape != gray.shape:
            self._background, self._previous = gray.astype(np.float32), gray
            return Motion((), 0.0)
        diff = cv2.absdiff(gray, cv2.convertScaleAbs(self._background))
        _, mask = cv2.threshold(diff, cfg.threshold, 255, cv2.THRESH_BINARY)
        changed = cv2.countNonZero(mask) / mask.size
        self._changed = mask
        if changed > cfg.recalibrate_frac:
            self._changed = None
            self._background, self._previous = gray.astype(np.float32), gray
            return Motion((), changed, recalibrated=True)
        previous, self._previous = self._previous, gray
        held = self._held(hold, gray.shape)
        if changed == 0.0 or previous is None:
            cv2.accumulateWeighted(gray, self._background, cfg.alpha, held)
            return Motion((), 0.0)
        # what is moving right now is learnt slowly, so a passing car leaves no ghost trail;
        # what differs but stands still (a parked car, the ghost of one that left) at full rate
        _, moving = cv2.threshold(cv2.absdiff(gray, previous), cfg.threshold, 255, 0)
        moving = cv2.bitwise_and(mask, cv2.dilate(moving, _KERNEL_3))
        still = cv2.bitwise_not(moving)
        if held is not None:
            still = cv2.bitwise_and(still, held)
            moving = cv2.bitwise_and(moving, held)
        cv2.accumulateWeighted(gray, self._background, cfg.alpha, still)
        cv2.accumulateWeighted(gray, self._background, cfg.alpha * cfg.foreground_rate, moving)
        mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, _KERNEL_3)
        if cfg.dilate:
            mask = cv2.dilate(mask, _KERNEL_3, iterations=cfg.dilate)
        return Motion(tuple(self._regions(mask)), changed)

    @staticmethod
    def _held(hold: Sequence[Box], shape: tuple[int, ...]) -> MatLike | None:
        """255 where the background may learn, 0 inside the held boxes; None: everywhere."""
        if not hold:
            return None
        h, w = shape[:2]
        learn = np.full((h, w), 255, np.uint8)
        for b in hold:
            learn[
                int(b.y1 * h) : int(np.ceil(b.y2 * h)), int(b.x1 * w) : int(np.ceil(b.x2 * w))
            ] = 0
        return learn

    def _regions(self, mask: MatLike) -> list[Box]:
        h, w = mask.shape[:2]
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        min_px = self.config.min_area * w * h
        d = self.config.dilate  # the dilation grew each part by this many pixels a side
        boxes = [
            Box((x + d) / w, (y + d) / h, (x + bw - d) / w, (y + bh - d) / h)
            for x, y, bw, bh, area in stats[1:count].tolist()
            if area >= min_px and bw > 2 * d and bh > 2 * d
        ]
        return merge_boxes(boxes, self.config.merge_overlap)
