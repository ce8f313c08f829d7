"""The detector interface and what the detectors share: pixel boxes and non-maximum suppression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import cv2
import numpy as np
from cv2.typing import MatLike

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.types import Box, Detection


class DetectorError(Exception):
    """A detector that cannot be built or run (missing or unreadable model file)."""


class Detector(Protocol):
    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        """Objects in ``frame`` (BGR, full resolution) found in or overlapping ``regions``
        (the parts that moved, and where tracked objects are); boxes in image fractions."""
        ...


PixelBox = tuple[int, int, int, int]
"""(x, y, width, height) in pixels, as OpenCV's functions take them."""


def to_pixels(box: Box, width: int, height: int, pad: float = 0.0) -> PixelBox:
    """``box`` in pixels, grown by ``pad`` of its size on every side and clipped to the image."""
    bw, bh = box.x2 - box.x1, box.y2 - box.y1
    x1 = max(0, int((box.x1 - pad * bw) * width))
    y1 = max(0, int((box.y1 - pad * bh) * height))
    x2 = min(width, int(np.ceil((box.x2 + pad * bw) * width)))
    y2 = min(height, int(np.ceil((box.y2 + pad * bh) * height)))
    return x1, y1, max(0, x2 - x1), max(0, y2 - y1)


def overlaps(box: Box, regions: Sequence[Box]) -> bool:
    return any(box.x1 < r.x2 and r.x1 < box.x2 and box.y1 < r.y2 and r.y1 < box.y2 for r in regions)


def suppress(
    boxes: Sequence[PixelBox],
    scores: Sequence[float],
    classes: Sequence[ObjectClass],
    *,
    width: int,
    height: int,
    min_confidence: float,
    iou: float = 0.45,
) -> list[Detection]:
    """Non-maximum suppression per class (cv2.dnn.NMSBoxes), boxes turned into image fractions."""
    out: list[Detection] = []
    for cls in dict.fromkeys(classes):
        idx = [i for i, c in enumerate(classes) if c is cls]
        keep = cv2.dnn.NMSBoxes(
            [boxes[i] for i in idx], [float(scores[i]) for i in idx], min_confidence, iou
        )
        for k in np.asarray(keep, dtype=np.int64).reshape(-1).tolist():
            x, y, w, h = boxes[idx[k]]
            out.append(
                Detection(
                    Box(
                        max(0.0, x / width),
                        max(0.0, y / height),
                        min(1.0, (x + w) / width),
                        min(1.0, (y + h) / height),
                    ),
                    cls,
                    float(scores[idx[k]]),
                )
            )
    return out
