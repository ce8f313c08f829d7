"""One camera's analytics: frame -> motion -> detection in the moved regions -> tracking ->
zones and lines -> ``FrameResult``.

Detection runs only when something moved, and only where (plus, for detectors that can see
still objects, where tracked objects are). A tracked object that stops stays an object while
its pixels still differ from the background (hold.py), detected or not. A frame without motion
costs the motion stage and a tracker step without detections (held objects are kept, others
age out), and the scene logic still advances (dwell times grow, count intervals close).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from cv2.typing import MatLike

from cityops.domain.analytics import AnalyticsEventKind, CameraAnalytics
from cityops.domain.entities import Camera
from cityops.video.analytics.detectors import (
    BlobClassifier,
    BlobRules,
    Detector,
    HogPeopleDetector,
    make_detector,
)
from cityops.video.analytics.detectors.blob import unclaimed_people
from cityops.video.analytics.hold import HoldConfig, Holder
from cityops.video.analytics.motion import MotionConfig, MotionDetector
from cityops.video.analytics.scene import SceneConfig, SceneLogic
from cityops.video.analytics.tracking import Tracker, TrackerConfig
from cityops.video.analytics.types import AnalyticsEvent, Box, FrameResult

__all__ = ["CameraPipeline", "PipelineConfig", "make_detector"]


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    motion: MotionConfig = field(default_factory=MotionConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    scene: SceneConfig = field(default_factory=SceneConfig)
    motion_quiet_s: float = 10.0
    """A motion event is reported when motion starts after this long without any."""
    track_pad: float = 0.2
    """Tracked objects' boxes, grown by this, are searched again by model detectors."""
    hold: HoldConfig = field(default_factory=HoldConfig)
    """Tracked objects that stop stay objects (hold.py)."""


class CameraPipeline:
    def __init__(
        self,
        camera: Camera,
        *,
        timezone: str,
        detector: Detector | None = None,
        config: PipelineConfig | None = None,
    ) -> None:
        self.camera = camera
        self.analytics = camera.analytics or CameraAnalytics()
        self.config = config or PipelineConfig()
        self.detector = detector if detector is not None else make_detector(self.analytics.detector)
        self.motion = MotionDetector(self.config.motion)
        self.tracker = Tracker(self.config.tracker)
        self.scene = SceneLogic(self.analytics, timezone=timezone, config=self.config.scene)
        self._blobs = isinstance(self.detector, BlobClassifier)
        self._people_blobs = (
            BlobClassifier(BlobRules.of(self.analytics.detector.blob))
            if isinstance(self.detector, HogPeopleDetector)
            else None
        )
        """With HOG: person-shaped motion blobs where HOG found nobody are people too."""
        self.holder = Holder(self.config.hold)
        self._last_motion: float | None = None

    def process(self, frame: MatLike, ts: datetime) -> FrameResult:
        """Analyse one frame taken at ``ts`` (aware, UTC)."""
        h, w = frame.shape[:2]
        t = ts.timestamp()
        seen = {o.track_id for o in self.tracker.objects()}
        held = self.holder.held(self.tracker.alive(), seen, t)
        motion = self.motion.detect(frame, self.holder.grown(held))
        events: list[AnalyticsEvent] = []
        if motion.regions:
            quiet = self._last_motion is None or t - self._last_motion >= self.config.motion_quiet_s
            if quiet:
                events.append(
                    AnalyticsEvent(
                        AnalyticsEventKind.MOTION,
                        ts,
                        boxes=motion.regions,
                        attributes={"since": ts.isoformat()},
                    )
                )
            self._last_motion = t
            detections = self.detector.detect(frame, self._search_regions(motion.regions))
            if self._people_blobs is not None:
                detections += unclaimed_people(
                    self._people_blobs, frame, motion.regions, detections
                )
        else:
            detections = []
        detected = [o.track_id for o in self.tracker.update(detections, t)]
        for track_id in self.holder.still_there(held, detected, self.motion.changed_area, t):
            self.tracker.keep(track_id, t)
        objects = self.tracker.objects()
        scene_events, counts = self.scene.update(objects, ts, aspect=w / h)
        return FrameResult(
            events=tuple(events + scene_events),
            counts=tuple(counts),
            objects=tuple(objects),
            motion=motion.regions,
        )

    def _search_regions(self, regions: tuple[Box, ...]) -> list[Box]:
        if self._blobs:  # a blob is its own region: a still object has none
            return list(regions)
        pad = self.config.track_pad
        tracked = [
            Box(
                max(0.0, o.box.x1 - pad * (o.box.x2 - o.box.x1)),
                max(0.0, o.box.y1 - pad * (o.box.y2 - o.box.y1)),
                min(1.0, o.box.x2 + pad * (o.box.x2 - o.box.x1)),
                min(1.0, o.box.y2 + pad * (o.box.y2 - o.box.y1)),
            )
            for o in self.tracker.objects()
        ]
        return list(regions) + tracked
