"""One camera in the worker: a reader thread that reconnects with exponential back-off, judges
each frame's health (video/tamper.py), runs the camera's analytics pipeline and hands the
resulting messages on."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cityops.domain.analytics import CameraAnalytics, ObjectClass, TamperSpec
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Camera
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.analytics.types import AnalyticsEvent, Box, FrameResult
from cityops.video.evidence import EvidenceConfig, EvidenceRecorder
from cityops.video.masking import Frame
from cityops.video.snapshots import AnalysedFrame
from cityops.video.sources import FrameSource, SourceError, stream_for
from cityops.video.tamper import TamperDetector
from cityops.video.worker.publish import (
    Message,
    cleared_detections,
    detections_message,
    event_id,
    events_message,
    result_messages,
)

log = logging.getLogger(__name__)

BACKOFF_MIN_S = 0.5
BACKOFF_MAX_S = 30.0
DETECTIONS_S = 1.0
"""How often a camera tells what it currently sees (the camera wall's boxes)."""
HEALTH_FPS = 2.0
"""Frames a second judged for a camera without analytics (its health only)."""


class Analyzer(Protocol):
    """The analytics pipeline of one camera (``video.analytics.pipeline.CameraPipeline``)."""

    def process(self, frame: Frame, ts: datetime) -> FrameResult: ...


AnalyzerFactory = Callable[[Camera, str], Analyzer | None]
"""(camera, municipality time zone) -> its pipeline, or None for health only."""


def default_analyzer(camera: Camera, timezone: str) -> Analyzer | None:
    """The analytics pipeline for a camera with an ``analytics`` block (None without one:
    its health is still watched). Raises DetectorError when its detector cannot be built."""
    if camera.analytics is None:
        return None
    return CameraPipeline(camera, timezone=timezone)


@dataclass(frozen=True, slots=True)
class CameraJob:
    """A camera the worker may run: the camera, the stream it reads (a demo may substitute a
    clip for the configured URL) and its municipality's time zone."""

    camera: Camera
    url: str
    timezone: str = "Europe/Sofia"

    @property
    def key(self) -> str:
        return camera_key(self.camera)


def camera_key(camera: Camera) -> str:
    """``municipality/camera``: how the workers name a camera among them."""
    return f"{camera.municipality}/{camera.id}"


def camera_jobs(
    configs: Iterable[MunicipalityConfig], clips: Sequence[Path] = (), *, rendered: bool = False
) -> list[CameraJob]:
    """Every camera with a stream in the configurations (what stands in for it in a demo:
    ``sources.stream_for``). Where recorded clips stand in, only the cameras' health is judged:
    their zones and lines were drawn for the cameras' own pictures, not for the clips."""
    jobs = []
    for config in configs:
        for index, camera in enumerate(config.cameras):
            url = stream_for(camera, index, clips, rendered=rendered)
            if url is not None:
                cam = replace(camera, analytics=None) if clips else camera
                jobs.append(CameraJob(cam, url, config.municipality.timezone))
    return jobs


class CameraRunner:
    def __init__(
        self,
        job: CameraJob,
        emit: Callable[[Message], None],
        analyzer: Analyzer | None = None,
        *,
        tamper: TamperSpec | None = None,
        backoff: tuple[float, float] = (BACKOFF_MIN_S, BACKOFF_MAX_S),
        worker_id: str | None = None,
        evidence: EvidenceConfig | None = None,
    ) -> None:
        """``worker_id``: named in every event (attribute ``worker``); ``evidence``: where each
        event's snapshot and clip go (None: no evidence)."""
        self.job = job
        self.extra = {"worker": worker_id} if worker_id else {}
        self.emit = emit
        self.analyzer = analyzer
        analytics = job.camera.analytics or CameraAnalytics(fps=HEALTH_FPS)
        self.fps = analytics.fps
        self.health = TamperDetector(
            tamper or analytics.tamper,
            started=datetime.now(UTC),
            offline_after_s=max(3.0, 3.0 / self.fps),
        )
        self.backoff = backoff
        self.frames = 0
        self.evidence = EvidenceRecorder(job.camera, self.fps, evidence) if evidence else None
        self._detections_at = 0.0
        self.latest: AnalysedFrame | None = None
        """The last frame analysed and the people found in it (snapshots show it)."""
        self.connects = 0
        self.error: str | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()  # health is judged from the reader and from tick()
        self._thread = threading.Thread(
            target=self._run, name=f"cityops-video-{job.camera.id}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self.evidence is not None:
            self.evidence.close()  # the clips being recorded are published as they are
        if self.analyzer is not None:  # what it saw is no longer what it sees: clear it
            self.emit(cleared_detections(self.job.camera))

    def tick(self, now: datetime) -> None:
        with self._lock:
            events = self.health.tick(now)
        self._send_events(events)
        if self.evidence is not None:
            self.evidence.tick(now)

    def _run(self) -> None:
        delay = self.backoff[0]
        while not self._stop.is_set():
            try:
                source = FrameSource(self.job.url)
            except SourceError as err:
                self._failed(str(err))
                return  # a URL that can never work (unknown scheme): nothing to retry
            try:
                for frame in source.frames(self.fps):
                    if self._stop.is_set():
                        break
                    if self.frames == 0 or self.error is not None:
                        self.connects += 1
                        self.error = None
                        delay = self.backoff[0]
                    self._frame(frame, datetime.now(UTC))
            except SourceError as err:
                self._failed(str(err))
            except Exception as err:  # a bug in the analytics must not end the camera
                log.exception("camera %s: analysis failed", self.job.key)
                self._failed(f"analysis failed: {err}")
            finally:
                source.close()
            if self._stop.wait(delay):
                return
            delay = min(delay * 2, self.backoff[1])

    def _frame(self, frame: Frame, ts: datetime) -> None:
        self.frames += 1
        with self._lock:
            health = self.health.observe(frame, ts)
        result = self.analyzer.process(frame, ts) if self.analyzer is not None else None
        people: tuple[Box, ...] = ()
        if result is not None:
            people = tuple(o.box for o in result.objects if o.cls is ObjectClass.PERSON)
        picture = self._picture(frame, ts, people)
        self._send_events(health, picture)
        if result is not None:
            result = replace(result, events=self._with_evidence(result.events, picture))
            for message in result_messages(self.job.camera, result, self.extra):
                self.emit(message)
            now = time.monotonic()
            if now - self._detections_at >= DETECTIONS_S:
                self._detections_at = now
                self.emit(detections_message(self.job.camera, result, ts))
        self.latest = AnalysedFrame(frame, people, time.monotonic())

    def _picture(self, frame: Frame, ts: datetime, people: tuple[Box, ...]) -> Frame | None:
        """The masked evidence picture of this frame, kept in the ring (None: no evidence)."""
        if self.evidence is None:
            return None
        try:
            return self.evidence.frame(frame, ts, people)
        except Exception:  # evidence must never cost the camera its analytics
            log.exception("camera %s: evidence frame failed", self.job.key)
            return None

    def _with_evidence(
        self, events: tuple[AnalyticsEvent, ...], picture: Frame | None
    ) -> tuple[AnalyticsEvent, ...]:
        """Each event with its snapshot and clip written and named in its attributes."""
        if self.evidence is None or picture is None:
            return events
        out = []
        for e in events:
            refs = self.evidence.evidence(e, event_id(self.job.camera, e), picture)
            out.append(replace(e, attributes={**e.attributes, **refs}) if refs else e)
        return tuple(out)

    def _send_events(self, events: list[AnalyticsEvent], picture: Frame | None = None) -> None:
        with_refs = self._with_evidence(tuple(events), picture)
        message = events_message(self.job.camera, with_refs, self.extra)
        if message is not None:
            for e in events:
                log.info("camera %s: %s", self.job.key, e.kind.value)
            self.emit(message)

    def _failed(self, reason: str) -> None:
        if reason != self.error:
            log.warning("camera %s: %s", self.job.key, reason)
        self.error = reason
