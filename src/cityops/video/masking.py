"""Privacy masking: configured polygons are blacked out before a frame is stored or shown."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from cv2.typing import MatLike

from cityops.domain.entities import Polygon

Frame = MatLike


def apply_privacy_masks(frame: Frame, masks: Sequence[Polygon]) -> Frame:
    """Black out every mask (vertices as fractions of the image) on a copy of ``frame``."""
    if not masks:
        return frame
    out = frame.copy()
    h, w = out.shape[:2]
    polys = [
        np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in poly], dtype=np.int32)
        for poly in masks
        if len(poly) >= 3
    ]
    cv2.fillPoly(out, polys, (0, 0, 0))
    return out


def encode_jpeg(frame: Frame, quality: int = 80, max_width: int = 960) -> bytes:
    """JPEG bytes of ``frame``, scaled down to ``max_width`` for the console."""
    h, w = frame.shape[:2]
    if w > max_width:
        frame = cv2.resize(
            frame, (max_width, round(h * max_width / w)), interpolation=cv2.INTER_AREA
        )
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf.tobytes())
