"""OpenCV's built-in HOG people detector (Dalal-Triggs), run only on the regions that moved.

Each region is padded (a person's moving legs alone make a small region), regions that then
overlap are merged so no pixel is searched twice, and a crop shorter than ``target_height`` is
scaled up: the detector's window is 64x128 pixels and finds people about 100 pixels tall, so a
60-pixel pedestrian in a 360-row stream is found only after upscaling.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from cv2.typing import MatLike

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.detectors.base import PixelBox, suppress, to_pixels
from cityops.video.analytics.motion import merge_boxes
from cityops.video.analytics.types import Box, Detection

WINDOW = (64, 128)


class HogPeopleDetector:
    def __init__(
        self,
        *,
        min_confidence: float = 0.5,
        pad: float = 0.3,
        target_height: int = 200,
        max_upscale: float = 3.0,
        scale_step: float = 1.1,
    ) -> None:
        self.min_confidence = min_confidence
        self.pad = pad
        self.target_height = target_height
        self.max_upscale = max_upscale
        self.scale_step = scale_step
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(
            np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32)
        )

    def _crops(self, width: int, height: int, regions: Sequence[Box]) -> list[PixelBox]:
        grown = []
        for r in regions:
            x, y, w, h = to_pixels(r, width, height, self.pad)
            grown.append(Box(x / width, y / height, (x + w) / width, (y + h) / height))
        return [to_pixels(b, width, height) for b in merge_boxes(grown)]

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        height, width = frame.shape[:2]
        boxes: list[PixelBox] = []
        scores: list[float] = []
        for x, y, w, h in self._crops(width, height, regions):
            if w < 8 or h < 16:
                continue
            crop = frame[y : y + h, x : x + w]
            scale = min(self.max_upscale, max(1.0, self.target_height / h))
            if scale > 1.0:
                crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
            ch, cw = crop.shape[:2]
            # the window must fit: pad a narrow or short crop with its border pixels
            bottom, right = max(0, WINDOW[1] - ch), max(0, WINDOW[0] - cw)
            if bottom or right:
                crop = cv2.copyMakeBorder(crop, 0, bottom, 0, right, cv2.BORDER_REPLICATE)
            found, weights = self._hog.detectMultiScale(
                crop, winStride=(8, 8), padding=(8, 8), scale=self.scale_step
            )
            for (fx, fy, fw, fh), wt in zip(
                np.asarray(found).reshape(-1, 4).tolist(),
                np.asarray(weights).reshape(-1).tolist(),
                strict=True,
            ):
                # the window holds the person with a margin of about 1/8 on every side
                mx, my = fw / 8, fh / 8
                boxes.append(
                    (
                        x + round((fx + mx) / scale),
                        y + round((fy + my) / scale),
                        round((fw - 2 * mx) / scale),
                        round((fh - 2 * my) / scale),
                    )
                )
                scores.append(_confidence(wt))
        return suppress(
            boxes,
            scores,
            [ObjectClass.PERSON] * len(boxes),
            width=width,
            height=height,
            min_confidence=self.min_confidence,
        )


def _confidence(svm_weight: float) -> float:
    """The SVM margin squashed to 0..1 (margin 0 -> 0.5, the detector's own threshold)."""
    return float(1.0 / (1.0 + np.exp(-svm_weight)))
