"""An H.264 MP4 clip a browser plays, encoded while it is recorded (PyAV, libx264).

Browser-safe choices: H.264 Main profile, yuv420p, even picture sides, the ``moov`` index at the
front (``+faststart``: playback and seeking start before the whole file is loaded). Frames keep
their own times (millisecond time base), so a clip analysed at an uneven rate plays at the pace
it was seen. Written under a temporary name and renamed when complete (files.py).
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from av.video.stream import VideoStream

from cityops.video.evidence.files import temp_path
from cityops.video.masking import Frame

TIME_BASE = Fraction(1, 1000)
CODEC_OPTIONS = {"preset": "veryfast", "profile": "main", "crf": "26"}
"""veryfast: 3-7 ms per 640x360 frame on one core; CRF 26 keeps a 10 s clip of a street at
5 frames/s near 200-500 KB."""


class ClipWriter:
    """One clip being recorded: ``add`` frames in time order, then ``close`` publishes it."""

    def __init__(self, target: Path, fps: float) -> None:
        self.target = target
        self.fps = fps
        target.parent.mkdir(parents=True, exist_ok=True)
        self.temp = temp_path(target)
        # The file is ours, not FFmpeg's: whatever fails, it is closed (a failed close of the
        # container must not keep the file, and a full file system, busy).
        self._file = self.temp.open("w+b")
        self._out = av.open(self._file, "w", format="mp4", options={"movflags": "+faststart"})
        self._stream: VideoStream | None = None
        self._t0: datetime | None = None
        self._last_pts = -1
        self.frames = 0

    def _open_stream(self, frame: Frame) -> VideoStream:
        h, w = frame.shape[:2]
        stream = self._out.add_stream(
            "libx264", rate=Fraction(round(self.fps * 1000), 1000), options=CODEC_OPTIONS
        )
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = TIME_BASE
        return stream

    def add(self, frame: Frame, ts: datetime) -> None:
        if self._stream is None:
            self._stream, self._t0 = self._open_stream(frame), ts
        assert self._t0 is not None
        pts = round((ts - self._t0).total_seconds() * 1000)
        if pts <= self._last_pts:
            return  # not later than the previous frame: MP4 needs rising times
        if frame.shape[1::-1] != (self._stream.width, self._stream.height):
            return  # the stream changed resolution mid-clip: its frames cannot join this clip
        vf = av.VideoFrame.from_ndarray(np.asarray(frame, dtype=np.uint8), format="bgr24")
        vf.pts, vf.time_base = pts, TIME_BASE
        for packet in self._stream.encode(vf):
            self._out.mux(packet)
        self._last_pts = pts
        self.frames += 1

    def close(self) -> bool:
        """Finish the file and publish it; False (nothing published) without frames."""
        try:
            if self._stream is not None:
                for packet in self._stream.encode(None):
                    self._out.mux(packet)
            self._out.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            if self.frames == 0:
                self.temp.unlink(missing_ok=True)
                return False
            os.replace(self.temp, self.target)
            return True
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Give the clip up: nothing is published, the temporary file goes."""
        try:
            self._out.close()
        except Exception:  # a broken encoder or a full disk: the file goes anyway
            pass
        finally:
            with contextlib.suppress(OSError):  # what it could not flush is given up with it
                self._file.close()
            self.temp.unlink(missing_ok=True)
