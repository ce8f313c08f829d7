"""Latest masked frames of the cameras, for the console's snapshots and live views."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cityops.domain.entities import Camera, CameraOfflineError
from cityops.video.analytics.types import Box
from cityops.video.masking import Frame, MaskStyle, encode_jpeg, frame_for_viewer
from cityops.video.sources import FrameSource, NoStreamError, SourceError, clip_files, stream_for


@dataclass(frozen=True, slots=True)
class AnalysedFrame:
    """The latest frame a video worker in this process analysed, with the people it found."""

    frame: Frame
    people: tuple[Box, ...]
    at: float
    """time.monotonic() when it was read."""


AnalysedFrames = Callable[[Camera], AnalysedFrame | None]
"""The in-process video worker's latest analysed frame of a camera (None: not running here)."""
FRESH_S = 2.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    camera_id: str
    jpeg: bytes
    taken_at: datetime
    fingerprint: str
    """A digest of the decoded frame: the same value twice, seconds apart, is a frozen image."""


class SnapshotService:
    """Opens each camera's stream on first use and keeps it open; a frame is masked before it
    is encoded, so no unmasked pixel leaves this class.

    ``max_age_s``: a snapshot younger than this is served from cache (many consoles, one grab).
    ``retry_after_s``: a camera that failed is not retried sooner (no hammering dead cameras).
    ``clips``: for demonstrations, recorded clips that stand in for the cameras' streams;
    ``rendered``: for demonstrations without clips, the cameras' rendered scenes.
    ``style``: how privacy masks are obscured (masking.MaskStyle).
    ``analysed``: where the in-process video worker's latest frames are: a camera it runs is
    shown from them (no second connection to the camera, and the people it found are known for
    ``blur_people``); the others are read here.
    """

    def __init__(
        self,
        *,
        max_age_s: float = 1.0,
        retry_after_s: float = 30.0,
        clips: Sequence[Path] = (),
        rendered: bool = False,
        style: MaskStyle = MaskStyle.BLACK,
        analysed: AnalysedFrames | None = None,
    ) -> None:
        self.max_age_s = max_age_s
        self.retry_after_s = retry_after_s
        self.clips = list(clips)
        self.rendered = rendered
        self.style = style
        self.analysed = analysed
        self._sources: dict[tuple[str, str], FrameSource] = {}
        self._cache: dict[tuple[str, str], tuple[float, Snapshot]] = {}
        self._failed: dict[tuple[str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    @classmethod
    def with_clip_dir(
        cls,
        directory: Path | None,
        *,
        rendered: bool = False,
        style: MaskStyle = MaskStyle.BLACK,
    ) -> SnapshotService:
        return cls(clips=clip_files(directory), rendered=rendered, style=style)

    def stream_url(self, camera: Camera, index: int) -> str | None:
        return stream_for(camera, index, self.clips, rendered=self.rendered)

    def fingerprint(self, camera: Camera, index: int = 0) -> str | None:
        """The fingerprint of the camera's latest frame (a FrameProbe for the health monitor):
        None when it has no stream; raises CameraOfflineError when no frame comes."""
        try:
            return self.snapshot(camera, index).fingerprint
        except NoStreamError:
            return None
        except SourceError as err:
            raise CameraOfflineError(str(err)) from err

    def snapshot(self, camera: Camera, index: int = 0, *, unmasked: bool = False) -> Snapshot:
        """The camera's latest masked frame as JPEG; raises SourceError when it is offline.
        ``unmasked``: the frame as the camera sent it, never cached; only for a caller that
        checked the viewer's permission and recorded the view (api/video_access.py)."""
        key = (camera.municipality, camera.id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
            if cached and now - cached[0] < self.max_age_s and not unmasked:
                return cached[1]
        latest = self.analysed(camera) if self.analysed is not None else None
        if latest is not None and now - latest.at < FRESH_S:
            return self._keep(key, camera, latest.frame, latest.people, unmasked)
        with self._lock:
            url = self.stream_url(camera, index)
            if url is None:
                raise NoStreamError("the camera has no stream configured")
            failed = self._failed.get(key)
            if failed and now - failed[0] < self.retry_after_s:
                raise SourceError(failed[1])
            source = self._sources.get(key)
            if source is None:
                source = self._sources[key] = FrameSource(url)
        try:
            frame = source.read()
        except SourceError as err:
            with self._lock:
                self._failed[key] = (time.monotonic(), str(err))
            raise
        return self._keep(key, camera, frame, (), unmasked)

    def _keep(
        self,
        key: tuple[str, str],
        camera: Camera,
        frame: Frame,
        people: tuple[Box, ...],
        unmasked: bool = False,
    ) -> Snapshot:
        shown = frame_for_viewer(frame, camera, unmasked=unmasked, people=people, style=self.style)
        shot = Snapshot(
            camera.id,
            encode_jpeg(shown),
            datetime.now(UTC),
            hashlib.blake2b(frame.tobytes(), digest_size=16).hexdigest(),
        )
        with self._lock:
            self._failed.pop(key, None)
            if not unmasked:
                self._cache[key] = (time.monotonic(), shot)
        return shot

    def close(self) -> None:
        with self._lock:
            for source in self._sources.values():
                source.close()
            self._sources.clear()
