"""Frame sources: RTSP, HTTP (MJPEG/HLS) and files through OpenCV's FFmpeg backend.

A file source plays as a camera would: the frame shown is the one at the current wall-clock
position in the clip, looping, so recorded clips serve as live cameras in tests and the demo.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import cv2

from cityops.video.masking import Frame

OPEN_TIMEOUT_MS = 3000
READ_TIMEOUT_MS = 3000


class SourceError(Exception):
    """A camera stream that cannot be opened or read; the camera is offline."""


class NoStreamError(SourceError):
    """The camera has no stream configured: nothing to show, but nothing broken either."""


@dataclass(frozen=True, slots=True)
class StreamLocation:
    kind: str
    """``file``, ``rtsp`` or ``http``."""
    target: str

    @classmethod
    def parse(cls, url: str) -> StreamLocation:
        u = urlparse(url)
        if u.scheme in ("", "file"):
            path = u.path if u.scheme == "file" else url
            return cls("file", path)
        if u.scheme in ("rtsp", "rtsps"):
            return cls("rtsp", url)
        if u.scheme in ("http", "https"):
            return cls("http", url)
        raise SourceError(f"unsupported stream scheme {u.scheme!r}")


class FrameSource:
    """One open stream; thread-safe ``read()`` of the latest frame."""

    def __init__(self, url: str) -> None:
        self.location = StreamLocation.parse(url)
        self._lock = threading.Lock()
        self._cap: cv2.VideoCapture | None = None
        self._opened_at = 0.0
        self._fps = 0.0
        self._frames = 0

    def _open(self) -> cv2.VideoCapture:
        loc = self.location
        if loc.kind == "file" and not Path(loc.target).is_file():
            raise SourceError(f"no video file at {loc.target}")
        cap = cv2.VideoCapture(
            loc.target,
            cv2.CAP_FFMPEG,
            [
                cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
                OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                READ_TIMEOUT_MS,
            ],
        )
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open {loc.kind} stream")
        self._opened_at = time.monotonic()
        self._fps = float(cap.get(cv2.CAP_PROP_FPS)) or 10.0
        self._frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if loc.kind == "file" else 0
        return cap

    def read(self) -> Frame:
        with self._lock:
            if self._cap is None:
                self._cap = self._open()
            cap = self._cap
            if self._frames > 0:  # a clip plays as if live: seek to "now" in the loop
                index = int((time.monotonic() - self._opened_at) * self._fps) % self._frames
                cap.set(cv2.CAP_PROP_POS_FRAMES, index)
            ok, frame = cap.read()
            if not ok or frame is None:
                cap.release()
                self._cap = None
                raise SourceError("stream ended or read timed out")
            return frame

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None
