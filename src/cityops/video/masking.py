"""Privacy: what a person may see of a camera's picture.

Every image that is stored or shown (snapshots, the live view, event snapshots, clips) goes
through ``frame_for_viewer``: the camera's configured privacy masks are obscured, and, when the
camera's analytics ask for it, the people the analytics found (``blur_people``) and the faces
OpenCV's shipped Haar cascade finds (``blur_faces``).

Obscuring styles (``MaskStyle``): ``black`` fills (the default for configured masks: nothing
survives, and it is trivially verifiable), ``pixelate`` (blocks of ``PIXEL_FRACTION`` of the
image width, each one flat colour: shapes and colours stay, identities do not) and ``blur`` (a
Gaussian blur whose width is ``BLUR_FRACTION`` of the image width).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from enum import StrEnum

import cv2
import numpy as np
from cv2.typing import MatLike

from cityops.domain.entities import Camera, Polygon
from cityops.video.analytics.types import Box

Frame = MatLike

PIXEL_FRACTION = 1 / 40
BLUR_FRACTION = 1 / 25
FACE_CASCADE = "haarcascade_frontalface_default.xml"


class MaskStyle(StrEnum):
    BLACK = "black"
    PIXELATE = "pixelate"
    BLUR = "blur"


def obscured(frame: Frame, style: MaskStyle) -> Frame:
    """The whole ``frame`` obscured in ``style`` (callers keep only the masked parts)."""
    h, w = frame.shape[:2]
    if style is MaskStyle.BLACK:
        return np.zeros_like(frame)
    if style is MaskStyle.PIXELATE:
        block = max(2, round(w * PIXEL_FRACTION))
        small = cv2.resize(
            frame, (max(1, w // block), max(1, h // block)), interpolation=cv2.INTER_AREA
        )
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    sigma = max(2.0, w * BLUR_FRACTION / 2)
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def _apply(frame: Frame, mask: np.ndarray, style: MaskStyle) -> Frame:  # type: ignore[type-arg]
    out = frame.copy()
    out[mask > 0] = obscured(frame, style)[mask > 0]
    return out


def polygon_mask(shape: tuple[int, ...], polygons: Sequence[Polygon]) -> np.ndarray:  # type: ignore[type-arg]
    """A uint8 image of ``shape[:2]``: 255 inside the polygons (vertices as image fractions)."""
    h, w = shape[:2]
    mask = np.zeros((h, w), np.uint8)
    polys = [
        np.array([[round(x * (w - 1)), round(y * (h - 1))] for x, y in poly], dtype=np.int32)
        for poly in polygons
        if len(poly) >= 3
    ]
    if polys:
        cv2.fillPoly(mask, polys, 255)
    return mask


def box_mask(shape: tuple[int, ...], boxes: Sequence[Box], pad: float = 0.1) -> np.ndarray:  # type: ignore[type-arg]
    """A uint8 image of ``shape[:2]``: 255 inside the boxes, each grown by ``pad`` of its size."""
    h, w = shape[:2]
    mask = np.zeros((h, w), np.uint8)
    for b in boxes:
        dx, dy = pad * (b.x2 - b.x1), pad * (b.y2 - b.y1)
        x1, y1 = max(0, int((b.x1 - dx) * w)), max(0, int((b.y1 - dy) * h))
        x2, y2 = min(w, int(np.ceil((b.x2 + dx) * w))), min(h, int(np.ceil((b.y2 + dy) * h)))
        mask[y1:y2, x1:x2] = 255
    return mask


def apply_privacy_masks(
    frame: Frame, masks: Sequence[Polygon], style: MaskStyle = MaskStyle.BLACK
) -> Frame:
    """Obscure every mask (vertices as fractions of the image) on a copy of ``frame``."""
    if not masks:
        return frame
    return _apply(frame, polygon_mask(frame.shape, masks), style)


class FaceFinder:
    """Faces with OpenCV's shipped frontal-face Haar cascade (opencv-python-headless 4.x ships
    it in ``cv2.data.haarcascades``; nothing is downloaded). One per process, thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cascade = cv2.CascadeClassifier(cv2.data.haarcascades + FACE_CASCADE)  # type: ignore[attr-defined]
        if self._cascade.empty():
            raise RuntimeError(f"OpenCV's {FACE_CASCADE} is missing (opencv-python-headless < 5)")

    def find(self, frame: Frame) -> list[Box]:
        h, w = frame.shape[:2]
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        with self._lock:  # a CascadeClassifier is not safe to share between threads
            found = self._cascade.detectMultiScale(gray, 1.1, 4, minSize=(16, 16))
        return [Box(x / w, y / h, (x + fw) / w, (y + fh) / h) for x, y, fw, fh in found]


_faces: FaceFinder | None = None


def faces() -> FaceFinder:
    global _faces  # noqa: PLW0603 - one cascade per process, loaded on first use
    if _faces is None:
        _faces = FaceFinder()
    return _faces


def frame_for_viewer(
    frame: Frame,
    camera: Camera,
    *,
    unmasked: bool = False,
    people: Sequence[Box] = (),
    style: MaskStyle = MaskStyle.BLACK,
    people_style: MaskStyle = MaskStyle.PIXELATE,
) -> Frame:
    """The camera's picture as a person may see it: THE one place an image leaves the video layer.

    ``unmasked=True`` returns the frame untouched. Only a caller that has checked the viewer's
    permission to see unmasked video (the security issue: a role, a purpose, an audit entry) may
    pass it; every other caller gets the masked picture. ``people``: where the analytics found
    people in this frame (obscured when the camera's analytics set ``blur_people``); faces are
    searched here when it sets ``blur_faces``. ``style`` obscures the configured masks,
    ``people_style`` the people and faces.
    """
    if unmasked:
        return frame
    out = apply_privacy_masks(frame, camera.privacy_masks, style)
    analytics = camera.analytics
    if analytics is None:
        return out
    boxes = list(people) if analytics.blur_people else []
    if analytics.blur_faces:
        boxes += faces().find(frame)
    if not boxes:
        return out
    return _apply(out, box_mask(frame.shape, boxes), people_style)


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
