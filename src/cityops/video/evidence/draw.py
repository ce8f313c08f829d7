"""An event's boxes drawn on its (already masked) snapshot, with what each box is."""

from __future__ import annotations

from collections.abc import Sequence

import cv2

from cityops.video.analytics.types import Box
from cityops.video.masking import Frame

BOX_BGR = (0, 200, 255)
"""Amber: visible on day and night pictures alike."""


def draw_boxes(picture: Frame, boxes: Sequence[Box], label: str) -> Frame:
    """A copy of ``picture`` with each box (image fractions) outlined and labelled."""
    out = picture.copy()
    h, w = out.shape[:2]
    thick = max(2, round(w / 320))
    for b in boxes:
        x1, y1 = round(b.x1 * (w - 1)), round(b.y1 * (h - 1))
        x2, y2 = round(b.x2 * (w - 1)), round(b.y2 * (h - 1))
        cv2.rectangle(out, (x1, y1), (x2, y2), BOX_BGR, thick)
        if label:
            scale = max(0.4, w / 1600)
            (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
            top = max(0, y1 - th - 6)
            cv2.rectangle(out, (x1, top), (x1 + tw + 6, top + th + 6), BOX_BGR, -1)
            cv2.putText(
                out,
                label,
                (x1 + 3, top + th + 2),
                cv2.FONT_HERSHEY_SIMPLEX,
                scale,
                (0, 0, 0),
                1,
                cv2.LINE_AA,
            )
    return out
