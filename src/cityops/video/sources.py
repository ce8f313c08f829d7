"""Frame sources: RTSP, HTTP (MJPEG/HLS) and files through OpenCV's FFmpeg backend, and
``synthetic://`` scenes rendered by CityOps itself.

Two ways to read a stream:

- ``FrameSource.read()``: the latest frame on demand (snapshots, the console's live view). A file
  plays as a camera would: the frame shown is the one at the current wall-clock position in the
  clip, looping, so recorded clips serve as live cameras in tests and the demo.
- ``FrameSource.frames(fps)``: an endless iterator for the video worker, paced at most at ``fps``
  (a live stream is drained at its own rate so its buffer never lags, but only ``fps`` frames a
  second are converted and handed on; a file plays in real time, looping).

Every failure is a ``SourceError`` with a sentence an operator understands.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import cv2

from cityops.domain.entities import Camera
from cityops.video.masking import Frame
from cityops.video.synthetic import SyntheticScene, open_synthetic

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov")
OPEN_TIMEOUT_MS = 3000
LIVE_OPEN_TIMEOUT_MS = 10000
"""A live stream's opening includes FFmpeg probing it (up to 5 s when the H.264 stream carries no
frame timing), so it gets longer than a file."""
READ_TIMEOUT_MS = 3000
MIN_SIDE = 16
MAX_SIDE = 8192
"""Frames outside MIN_SIDE..MAX_SIDE pixels on a side are refused as an absurd resolution."""


class SourceError(Exception):
    """A camera stream that cannot be opened or read; the camera is offline."""


class NoStreamError(SourceError):
    """The camera has no stream configured: nothing to show, but nothing broken either."""


@dataclass(frozen=True, slots=True)
class StreamLocation:
    kind: str
    """``file``, ``rtsp``, ``http`` or ``synthetic``."""
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
        if u.scheme == "synthetic":
            return cls("synthetic", url)
        raise SourceError(f"unsupported stream scheme {u.scheme!r}")

    @property
    def live(self) -> bool:
        return self.kind in ("rtsp", "http")


def clip_files(directory: Path | None) -> list[Path]:
    """The video files in ``directory`` (recorded clips standing in for cameras in a demo)."""
    if directory is None or not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def stream_for(
    camera: Camera, index: int, clips: Sequence[Path] = (), *, rendered: bool = False
) -> str | None:
    """The stream to read for the ``index``-th camera of its configuration (the same for the
    snapshots and the worker): its own; in a demonstration one of the recorded ``clips`` standing
    in for the cameras, or (``rendered``) its rendered demo scene where it has one."""
    if clips:
        return str(clips[index % len(clips)])
    if rendered and camera.demo_stream_url:
        return camera.demo_stream_url
    return camera.stream_url


def check_resolution(frame: Frame) -> Frame:
    """``frame`` itself, or SourceError when its size is absurd (a broken encoder, a hostile
    stream): nothing downstream should allocate for a 100,000-pixel-wide image."""
    h, w = frame.shape[:2]
    if not (MIN_SIDE <= w <= MAX_SIDE and MIN_SIDE <= h <= MAX_SIDE):
        raise SourceError(
            f"absurd resolution {w}x{h} (accepted: {MIN_SIDE}..{MAX_SIDE} pixels a side)"
        )
    return frame


def _open_synthetic(url: str) -> SyntheticScene:
    """The rendered scene of a ``synthetic://`` URL (video/synthetic); frames by UNIX time."""
    try:
        return open_synthetic(url)
    except ValueError as err:
        raise SourceError(f"bad synthetic scene {url!r}: {err}") from err


class FrameSource:
    """One open stream; thread-safe ``read()`` of the latest frame, or ``frames()`` for a
    single consumer."""

    def __init__(self, url: str) -> None:
        self.location = StreamLocation.parse(url)
        self._lock = threading.Lock()
        self._cap: cv2.VideoCapture | None = None
        self._scene: SyntheticScene | None = None
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
                LIVE_OPEN_TIMEOUT_MS if loc.live else OPEN_TIMEOUT_MS,
                cv2.CAP_PROP_READ_TIMEOUT_MSEC,
                READ_TIMEOUT_MS,
            ],
        )
        if not cap.isOpened():
            cap.release()
            what = "video file (corrupt or not a video)" if loc.kind == "file" else "stream"
            raise SourceError(f"cannot open {loc.kind} {what}")
        self._opened_at = time.monotonic()
        fps = float(cap.get(cv2.CAP_PROP_FPS))
        self._fps = fps if 0.5 <= fps <= 240.0 else 10.0
        self._frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) if loc.kind == "file" else 0
        return cap

    def _synthetic(self) -> SyntheticScene:
        if self._scene is None:
            self._scene = _open_synthetic(self.location.target)
        return self._scene

    def read(self) -> Frame:
        with self._lock:
            if self.location.kind == "synthetic":
                return check_resolution(self._synthetic().frame_at(time.time()))
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
            return check_resolution(frame)

    def frames(self, fps: float) -> Iterator[Frame]:
        """Frames at most ``fps`` a second until the stream fails (SourceError) or the
        consumer stops iterating. Opens the stream first, so opening errors surface at once."""
        period = 1.0 / fps
        if self.location.kind == "synthetic":
            yield from self._synthetic_frames(period)
            return
        with self._lock:
            cap = self._cap = self._cap or self._open()
        try:
            if self.location.live:
                yield from _live_frames(cap, period)
            else:
                yield from _file_frames(cap, period, self._fps)
        finally:
            self.close()

    def _synthetic_frames(self, period: float) -> Iterator[Frame]:
        scene = self._synthetic()
        while True:
            t = time.time()
            yield check_resolution(scene.frame_at(t))
            time.sleep(max(0.0, t + period - time.time()))

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None


def _live_frames(cap: cv2.VideoCapture, period: float) -> Iterator[Frame]:
    """Drain a live stream at its own rate (grab: demux and decode, no colour conversion) and
    hand on a frame only once per ``period``."""
    due = time.monotonic()
    while True:
        if not cap.grab():
            raise SourceError("stream ended or read timed out")
        now = time.monotonic()
        if now < due:
            continue
        ok, frame = cap.retrieve()
        if not ok or frame is None:
            raise SourceError("stream gave an undecodable frame")
        due = max(due + period, now)
        yield check_resolution(frame)


def _file_frames(cap: cv2.VideoCapture, period: float, clip_fps: float) -> Iterator[Frame]:
    """Play a file in real time, looping, handing on one frame per ``period`` (the frames in
    between are grabbed, not converted)."""
    step = max(1, round(period * clip_fps))
    start = time.monotonic()
    played = 0
    yielded_any = rewound = False
    while True:
        ok, frame = cap.read()
        if not ok or frame is None:
            if not yielded_any:
                raise SourceError("the video file has no decodable frame (corrupt?)")
            if rewound:
                raise SourceError("the video file cannot be played again from its start")
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop
            rewound = True
            continue
        yielded_any, rewound = True, False
        time.sleep(max(0.0, start + played / clip_fps - time.monotonic()))
        yield check_resolution(frame)
        for _ in range(step - 1):
            cap.grab()
        played += step
