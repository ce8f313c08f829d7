"""Motion on made frames (a moving square on a textured background, a light switched on) and
tracking of synthetic detections (fast movers, crossing paths, flickers)."""

from __future__ import annotations

import numpy as np
import pytest

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.motion import MotionConfig, MotionDetector, merge_boxes
from cityops.video.analytics.tracking import Tracker, TrackerConfig
from cityops.video.analytics.types import Box, Detection

RNG = np.random.default_rng(7)
BACKGROUND = RNG.integers(60, 120, (360, 480, 3), dtype=np.uint8)


def frame_with_square(x: int, y: int, size: int = 40) -> np.ndarray:  # type: ignore[type-arg]
    frame = BACKGROUND.copy()
    frame[y : y + size, x : x + size] = 230
    return frame


def test_a_moving_square_is_one_region_around_it() -> None:
    motion = MotionDetector()
    assert motion.detect(BACKGROUND).regions == ()  # the first frame only teaches
    assert motion.detect(BACKGROUND).regions == ()
    for x in range(40, 200, 20):
        result = motion.detect(frame_with_square(x, 150))
    assert len(result.regions) == 1
    (box,) = result.regions
    # the square now at x 180..220 (0.375..0.458), y 150..190 (0.417..0.528)
    assert box.x1 == pytest.approx(180 / 480, abs=0.03)
    assert box.x2 == pytest.approx(220 / 480, abs=0.03)
    assert box.y1 == pytest.approx(150 / 360, abs=0.03)
    assert box.y2 == pytest.approx(190 / 360, abs=0.03)


def test_a_light_switched_on_recalibrates_instead_of_motion_everywhere() -> None:
    motion = MotionDetector()
    motion.detect(BACKGROUND)
    motion.detect(BACKGROUND)
    brighter = np.clip(BACKGROUND.astype(np.int16) + 60, 0, 255).astype(np.uint8)
    result = motion.detect(brighter)
    assert result.recalibrated
    assert result.regions == ()
    assert result.changed_frac > 0.9
    # the new light is now the background: a square moving in it is seen again
    moving = brighter.copy()
    moving[100:140, 100:140] = 10
    assert len(motion.detect(moving).regions) == 1
    assert not motion.detect(brighter).recalibrated


def test_a_new_resolution_starts_a_new_background() -> None:
    motion = MotionDetector()
    motion.detect(BACKGROUND)
    motion.detect(BACKGROUND)
    wide = np.zeros((360, 640, 3), np.uint8)
    assert motion.detect(wide).regions == ()  # learnt, not compared with a 4:3 background
    assert motion.small_gray(wide).shape == (120, 213)
    moving = wide.copy()
    moving[100:160, 300:340] = 200
    assert len(motion.detect(moving).regions) == 1


def test_noise_below_the_threshold_is_no_motion() -> None:
    motion = MotionDetector(MotionConfig(threshold=20))
    motion.detect(BACKGROUND)
    noise = RNG.integers(-8, 9, BACKGROUND.shape)
    noisy = np.clip(BACKGROUND.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    assert motion.detect(noisy).regions == ()


def test_merge_boxes_joins_overlapping_parts_only() -> None:
    a, b, c = Box(0.1, 0.1, 0.3, 0.3), Box(0.2, 0.2, 0.35, 0.35), Box(0.5, 0.5, 0.6, 0.6)
    assert merge_boxes([a, b, c]) == [Box(0.1, 0.1, 0.35, 0.35), c]
    # two cars side by side whose boxes overlap a little stay two at min_overlap 0.5
    left, right = Box(0.1, 0.1, 0.3, 0.3), Box(0.28, 0.1, 0.48, 0.3)
    assert merge_boxes([left, right], 0.5) == [left, right]


def det(x: float, y: float, cls: ObjectClass = ObjectClass.VEHICLE, s: float = 0.05) -> Detection:
    return Detection(Box(x, y, x + s, y + s), cls, 0.8)


def test_a_fast_car_keeps_its_identity() -> None:
    tracker = Tracker()
    ids = set()
    for i in range(10):  # 1.6 box widths per frame
        objects = tracker.update([det(0.05 + i * 0.08, 0.5)], i * 0.2)
        ids |= {o.track_id for o in objects}
    assert ids == {1}


def test_two_crossing_paths_keep_their_identities() -> None:
    tracker = Tracker()
    for i in range(12):
        a = det(0.1 + i * 0.06, 0.4 + i * 0.01)  # moving right
        b = det(0.76 - i * 0.06, 0.44 - i * 0.01, ObjectClass.PERSON)  # moving left
        objects = tracker.update([a, b], i * 0.2)
    by_id = {o.track_id: o for o in objects}
    assert set(by_id) == {1, 2}
    assert by_id[1].box.x1 == pytest.approx(0.1 + 11 * 0.06)
    assert by_id[2].cls is ObjectClass.PERSON


def test_a_one_frame_flicker_is_never_an_object_and_old_tracks_end() -> None:
    tracker = Tracker(TrackerConfig(min_hits=2, max_age_s=1.0))
    assert tracker.update([det(0.5, 0.5)], 0.0) == []
    assert tracker.update([], 0.2) == []
    assert [o.track_id for o in tracker.update([det(0.5, 0.5)], 0.4)] == [1]
    tracker.update([], 2.0)
    assert [o.track_id for o in tracker.update([det(0.5, 0.5)], 2.2)] == []  # a new track
    assert [o.track_id for o in tracker.update([det(0.5, 0.5)], 2.4)] == [2]


def test_the_class_is_the_majority_of_the_detections() -> None:
    tracker = Tracker()
    classes = [ObjectClass.PERSON, ObjectClass.BICYCLE, ObjectClass.PERSON, ObjectClass.PERSON]
    for i, cls in enumerate(classes):
        objects = tracker.update([det(0.3 + i * 0.01, 0.5, cls)], i * 0.2)
    assert [o.cls for o in objects] == [ObjectClass.PERSON]


def test_a_held_object_that_stops_stays_a_region() -> None:
    """A square moves in and stops; unheld it fades into the background within seconds of
    analysed frames, held (it is being tracked) it stays a region."""
    plain, held = MotionDetector(), MotionDetector()
    for m in (plain, held):
        m.detect(BACKGROUND)
    for x in range(40, 200, 20):
        plain.detect(frame_with_square(x, 150))
        held.detect(frame_with_square(x, 150))
    parked = frame_with_square(180, 150)
    box = Box(180 / 480, 150 / 360, 220 / 480, 190 / 360)
    for _ in range(100):  # 20 s at 5 frames/s, alpha 0.05
        faded = plain.detect(parked).regions
        kept = held.detect(parked, hold=[box]).regions
    assert faded == ()
    assert len(kept) == 1
    assert kept[0].x1 == pytest.approx(box.x1, abs=0.03)


def test_a_standing_object_keeps_the_class_it_had_while_moving() -> None:
    """A car drives in (vehicle-shaped detections) and stops; standing, its blob takes a
    person's shape for 20 frames (two stopped cars merged into one tall blob): it stays a
    vehicle, since only detections that moved vote. A walker's class still follows the
    majority of its moving detections."""
    tracker = Tracker()
    for i in range(4):
        objects = tracker.update([det(0.1 + 0.04 * i, 0.5)], i * 0.2)
    for i in range(4, 24):
        objects = tracker.update([det(0.22, 0.5, ObjectClass.PERSON)], i * 0.2)
    assert [o.cls for o in objects] == [ObjectClass.VEHICLE]
    walker = Tracker()
    classes = [ObjectClass.BICYCLE] + [ObjectClass.PERSON] * 3
    for i, cls in enumerate(classes):
        objects = walker.update([det(0.5 + 0.02 * i, 0.5, cls)], i * 0.2)
    assert [o.cls for o in objects] == [ObjectClass.PERSON]


def test_a_vehicle_track_is_not_handed_to_the_one_behind_it() -> None:
    """A car drives right and is lost (it left the picture, or merged with another blob); in
    the same frame the car behind it is detected within reach of its prediction, but back
    along its way: that is another vehicle (nothing reverses between two analysed frames), so
    it gets a new id and the line logic does not see the first car cross backwards. People are
    not held to it (their blobs jump back and forth in groups)."""
    for cls, same in [(ObjectClass.VEHICLE, False), (ObjectClass.PERSON, True)]:
        tracker = Tracker()
        for i in range(4):
            objects = tracker.update([det(0.1 + 0.05 * i, 0.5, cls)], i * 0.2)
        (ahead,) = objects
        tracker.update([det(0.22, 0.5, cls)], 0.8)  # 0.03 behind where it last was
        behind = tracker.update([det(0.25, 0.5, cls)], 1.0)
        assert ([o.track_id for o in behind] == [ahead.track_id]) is same, cls
