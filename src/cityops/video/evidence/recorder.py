"""One camera's evidence: its ring of masked frames, each event's snapshot, and the clips being
recorded.

A clip runs from ``pre_s`` before its first event to ``post_s`` after its last. An event while a
clip is recording joins it when its own ``post_s`` still fits in ``max_clip_s`` (the clip is
extended), else it starts a clip of its own (at most ``MAX_OPEN`` at once per camera; beyond that
it joins the newest): a burst of events makes one clip, not one per event. Clips are encoded as
the frames come (nothing but the ring is held in memory) and published when their window ends,
or when the camera stops. A failure to write evidence is logged and costs the evidence, never the
camera or the event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2

from cityops.domain.entities import Camera
from cityops.domain.evidence import (
    ATTR_CLIP,
    ATTR_CLIP_END,
    ATTR_CLIP_START,
    ATTR_SNAPSHOT,
    EvidenceKind,
    evidence_path,
)
from cityops.video.analytics.types import AnalyticsEvent, Box
from cityops.video.evidence.clip import ClipWriter
from cityops.video.evidence.draw import draw_boxes
from cityops.video.evidence.files import write_atomic
from cityops.video.evidence.ring import FrameRing, evidence_picture
from cityops.video.masking import Frame, MaskStyle, frame_for_viewer

log = logging.getLogger(__name__)

MAX_OPEN = 3
SNAPSHOT_QUALITY = 85
STALL_S = 3.0
"""A clip whose window ended this long ago without a frame (the stream stopped) is published
with what it has."""


def iso(ts: datetime) -> str:
    return ts.isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class EvidenceConfig:
    """Where and how much evidence a worker keeps (settings ``CITYOPS_EVIDENCE_*``)."""

    root: Path
    pre_s: float = 5.0
    post_s: float = 5.0
    max_clip_s: float = 60.0
    clips: bool = True
    style: MaskStyle = MaskStyle.BLACK


@dataclass(slots=True)
class _Recording:
    writer: ClipWriter
    path: str
    start: datetime
    end: datetime
    last: datetime
    events: list[str] = field(default_factory=list)


class EvidenceRecorder:
    def __init__(self, camera: Camera, fps: float, config: EvidenceConfig) -> None:
        self.camera = camera
        self.fps = fps
        self.config = config
        self.ring = FrameRing(config.pre_s, max_frames=int(config.pre_s * fps * 1.5) + 2)
        self._open: list[_Recording] = []
        self._lock = threading.Lock()
        self.published: list[Path] = []
        """Clips published so far (tests and logs)."""

    def frame(self, frame: Frame, ts: datetime, people: Sequence[Box] = ()) -> Frame:
        """Mask ``frame`` (configured masks; the ``people`` found when the camera blurs them),
        keep it in the ring and in the clips being recorded; returns the masked picture."""
        picture = evidence_picture(
            frame_for_viewer(frame, self.camera, people=people, style=self.config.style)
        )
        self.ring.push(picture, ts)
        with self._lock:
            for rec in list(self._open):
                if rec.last < ts <= rec.end:
                    try:
                        rec.writer.add(picture, ts)
                    except Exception:  # e.g. the disk is full: this clip is lost, not the rest
                        log.exception("camera %s: clip %s abandoned", self.camera.id, rec.path)
                        self._open.remove(rec)
                        rec.writer.abort()
                        continue
                    rec.last = ts
            self._close(lambda rec: ts >= rec.end)
        return picture

    def evidence(
        self, event: AnalyticsEvent, event_id: str, picture: Frame | None
    ) -> Mapping[str, str]:
        """Write ``event``'s snapshot and put it in a clip; its attributes naming both."""
        if picture is None:
            return {}
        try:
            return {**self._snapshot(event, event_id, picture), **self._clip(event, event_id)}
        except Exception:
            log.exception("camera %s: evidence of %s not written", self.camera.id, event_id)
            return {}

    def tick(self, now: datetime) -> None:
        """Publish the clips whose window ended while no frame came."""
        with self._lock:
            self._close(lambda rec: now - rec.end >= timedelta(seconds=STALL_S))

    def close(self) -> None:
        """The camera stops: publish every clip with what it has."""
        with self._lock:
            self._close(lambda _rec: True)

    def _snapshot(self, event: AnalyticsEvent, event_id: str, picture: Frame) -> dict[str, str]:
        m, c = self.camera.municipality, self.camera.id
        rel = evidence_path(m, c, event.ts, event_id, EvidenceKind.SNAPSHOT)
        label = event.cls.value if event.cls is not None else event.kind.value
        shot = draw_boxes(picture, event.boxes, label)
        ok, buf = cv2.imencode(".jpg", shot, [cv2.IMWRITE_JPEG_QUALITY, SNAPSHOT_QUALITY])
        if not ok:
            raise ValueError("JPEG encoding failed")
        write_atomic(self.config.root / rel, bytes(buf.tobytes()))
        return {ATTR_SNAPSHOT: rel}

    def _clip(self, event: AnalyticsEvent, event_id: str) -> dict[str, str]:
        if not self.config.clips:
            return {}
        post = timedelta(seconds=self.config.post_s)
        longest = timedelta(seconds=self.config.max_clip_s)
        with self._lock:
            rec = self._open[-1] if self._open else None
            fits = rec is not None and event.ts + post <= rec.start + longest
            if rec is not None and (fits or len(self._open) >= MAX_OPEN):
                rec.end = min(max(rec.end, event.ts + post), rec.start + longest)
            else:
                rec = self._start(event, event_id)
                if rec is None:
                    return {}
            rec.events.append(event_id)
            end = min(event.ts + post, rec.end)
            return {
                ATTR_CLIP: rec.path,
                ATTR_CLIP_START: iso(rec.start),
                ATTR_CLIP_END: iso(max(end, event.ts)),
            }

    def _start(self, event: AnalyticsEvent, event_id: str) -> _Recording | None:
        before = self.ring.since(event.ts - timedelta(seconds=self.config.pre_s))
        if not before:
            return None
        m, c = self.camera.municipality, self.camera.id
        rel = evidence_path(m, c, event.ts, event_id, EvidenceKind.CLIP)
        writer = ClipWriter(self.config.root / rel, self.fps)
        for stored in before:
            writer.add(stored.decode(), stored.ts)
        start = before[0].ts
        end = event.ts + timedelta(seconds=self.config.post_s)
        longest = start + timedelta(seconds=self.config.max_clip_s)
        rec = _Recording(writer, rel, start, min(end, longest), before[-1].ts)
        self._open.append(rec)
        return rec

    def _close(self, due: Callable[[_Recording], bool]) -> None:
        """Publish the open recordings ``due(rec)`` says are done (the lock is held)."""
        keep = []
        for rec in self._open:
            if not due(rec):
                keep.append(rec)
                continue
            try:
                if rec.writer.close():
                    self.published.append(rec.writer.target)
            except Exception:
                log.exception("camera %s: clip %s not written", self.camera.id, rec.path)
        self._open = keep
