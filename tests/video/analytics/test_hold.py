"""Held objects (hold.py) through the whole pipeline: a tracked object that stops keeps its
track while the detector loses it, a ghost that a track jumps onto is not held, and a new
track on the spot where a held object lost its detection is held like it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
from cv2.typing import MatLike

from cityops.domain.analytics import CameraAnalytics, ObjectClass
from cityops.domain.entities import Camera, LonLat
from cityops.video.analytics.detectors import BlobClassifier
from cityops.video.analytics.hold import Holder
from cityops.video.analytics.pipeline import CameraPipeline
from cityops.video.analytics.types import Box, Detection, TrackedObject

T0 = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
BACKGROUND = np.random.default_rng(5).integers(60, 120, (240, 320, 3), dtype=np.uint8)


def car_at(x: int) -> MatLike:
    frame = BACKGROUND.copy()
    frame[120:150, x : x + 50] = 230  # a 50 x 30 "car"
    return frame


class Blind(BlobClassifier):
    """The blob classifier, blind while ``blind`` is set (a merged blob, a missed frame)."""

    def __init__(self) -> None:
        super().__init__(classes=frozenset({ObjectClass.VEHICLE}))
        self.blind = False

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        return [] if self.blind else super().detect(frame, regions)


def test_a_stopped_car_keeps_its_track_while_undetected_and_loses_it_when_gone() -> None:
    """A car drives in and stops; after it has stood still_s the detector goes blind for 30 s
    (a merged blob, say): the car stays tracked, with its id, because its box still differs
    from the background; it drives on and away, and no track is left where it stood. Blind at
    once after stopping (before still_s), the track would end: a moving car that misses its
    detection is left to the tracker's prediction."""
    detector = Blind()
    camera = Camera("c", "m", "C", LonLat(25.4, 42.6), 0.0, 60.0, 80.0, analytics=CameraAnalytics())
    pipeline = CameraPipeline(camera, timezone="UTC", detector=detector)
    t = 0.0

    def step(frame: MatLike) -> list[int]:
        nonlocal t
        t += 0.2
        return [o.track_id for o in pipeline.process(frame, T0 + timedelta(seconds=t)).objects]

    step(BACKGROUND)
    for x in range(10, 160, 10):  # drives in, 10 px a frame
        step(car_at(x))
    stood = [step(car_at(150)) for _ in range(55)]  # it stands 11 s (still_s: 10 s) ...
    assert all(ids == [1] for ids in stood)
    detector.blind = True  # ... then 30 s without a detection: longer than max_age_s
    seen = [step(car_at(150)) for _ in range(150)]
    assert all(ids == [1] for ids in seen)  # kept: its box still differs from the background
    detector.blind = False
    assert step(car_at(150)) == [1]
    for x in range(160, 330, 10):  # drives on and out of the picture
        step(car_at(x))
    gone = [step(BACKGROUND) for _ in range(10)]
    assert gone[-1] == []  # where it stood is background again: nothing kept it


def obj(track_id: int, x: float, y: float = 0.5) -> TrackedObject:
    return TrackedObject(track_id, ObjectClass.VEHICLE, Box(x, y, x + 0.1, y + 0.1), 0.6)


def test_only_a_gradual_move_holds_a_track() -> None:
    holder = Holder()
    # track 1 drives 0.05 a frame (half its width): held once it has moved by its width
    for i in range(4):
        held = holder.held([obj(1, 0.1 + 0.05 * i)], {1}, i * 0.2)
    assert [o.track_id for o in held] == [1]
    # track 2 stands, then jumps 0.3 in one frame (swapped onto a ghost): not held
    holder = Holder()
    frames = [obj(2, 0.1)] * 3 + [obj(2, 0.4)] * 3
    assert all(holder.held([o], {2}, i * 0.2) == [] for i, o in enumerate(frames))


def test_a_new_track_where_a_held_one_lost_its_detection_is_held() -> None:
    holder = Holder()
    for i in range(4):
        holder.held([obj(1, 0.1 + 0.05 * i)], {1}, i * 0.2)
    holder.held([obj(1, 0.25)], set(), 0.8)  # track 1 lost its detection (a merge)
    held = holder.held([obj(1, 0.25), obj(2, 0.28)], {2}, 1.0)
    assert sorted(o.track_id for o in held) == [1, 2]
    # a new track far from it, or beside a held track that is detected again, is not
    holder.held([obj(1, 0.25), obj(2, 0.28)], {1, 2}, 1.2)
    held = holder.held([obj(1, 0.25), obj(2, 0.28), obj(3, 0.7), obj(4, 0.3, 0.55)], {1, 2}, 1.4)
    assert sorted(o.track_id for o in held) == [1, 2]


def test_a_car_undetected_before_it_has_stood_still_s_is_not_kept() -> None:
    """The control: blind as soon as it stops, the car's track ends after the tracker's
    max_age_s (1.5 s), so what keeps it above is the background check after still_s."""
    detector = Blind()
    camera = Camera("c", "m", "C", LonLat(25.4, 42.6), 0.0, 60.0, 80.0, analytics=CameraAnalytics())
    pipeline = CameraPipeline(camera, timezone="UTC", detector=detector)
    frames = [BACKGROUND] + [car_at(x) for x in range(10, 160, 10)] + [car_at(150)] * 2
    for i, frame in enumerate(frames):
        ids = [o.track_id for o in pipeline.process(frame, T0 + timedelta(seconds=i * 0.2)).objects]
    assert ids == [1]
    detector.blind = True
    for i in range(len(frames), len(frames) + 10):  # 2 s
        ids = [
            o.track_id
            for o in pipeline.process(car_at(150), T0 + timedelta(seconds=i * 0.2)).objects
        ]
    assert ids == []
