"""The last seconds of a camera's masked frames, JPEG-compressed, bounded in time and count.

Cost per camera: ``seconds x fps`` JPEGs of the evidence picture (at most ``MAX_WIDTH`` wide):
about 25-60 KB each for 640x360 scenes at quality 90, so 5 s at 5 frames/s is 0.6-1.5 MB
(raw frames would be 17 MB at 640x360); the encoding costs 1-3 ms per analysed frame.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2
import numpy as np

from cityops.video.masking import Frame

MAX_WIDTH = 960
"""Evidence pictures are scaled down to this width (the console's snapshots are too)."""
QUALITY = 90


def evidence_picture(frame: Frame) -> Frame:
    """``frame`` scaled to at most MAX_WIDTH wide, with even sides (H.264 4:2:0 needs them)."""
    h, w = frame.shape[:2]
    if w > MAX_WIDTH:
        w, h = MAX_WIDTH, round(h * MAX_WIDTH / w)
    w2, h2 = max(2, w - w % 2), max(2, h - h % 2)
    if (w2, h2) != frame.shape[1::-1]:
        return cv2.resize(frame, (w2, h2), interpolation=cv2.INTER_AREA)
    return frame


@dataclass(frozen=True, slots=True)
class Stored:
    ts: datetime
    jpeg: bytes

    def decode(self) -> Frame:
        frame = cv2.imdecode(np.frombuffer(self.jpeg, np.uint8), cv2.IMREAD_COLOR)
        if frame is None:
            raise ValueError("a stored frame could not be decoded")
        return frame


class FrameRing:
    """Masked frames of the last ``seconds`` (and at most ``max_frames``), oldest first."""

    def __init__(self, seconds: float, max_frames: int) -> None:
        self.window = timedelta(seconds=seconds)
        self._frames: deque[Stored] = deque(maxlen=max(1, max_frames))
        self._lock = threading.Lock()

    def push(self, frame: Frame, ts: datetime) -> Stored:
        ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
        if not ok:
            raise ValueError("JPEG encoding failed")
        stored = Stored(ts, bytes(buf.tobytes()))
        with self._lock:
            self._frames.append(stored)
            while self._frames and ts - self._frames[0].ts > self.window:
                self._frames.popleft()
        return stored

    def since(self, start: datetime) -> list[Stored]:
        with self._lock:
            return [s for s in self._frames if s.ts >= start]

    def __len__(self) -> int:
        return len(self._frames)

    def __iter__(self) -> Iterator[Stored]:
        with self._lock:
            return iter(list(self._frames))

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(len(s.jpeg) for s in self._frames)
