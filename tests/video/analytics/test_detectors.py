"""The detectors: the blob classifier's rules, OpenCV's HOG on the motion regions of a real
PETS 2009 frame, and the ONNX detector on tiny models the test builds with ``onnx.helper``."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from cityops.domain.analytics import DetectorKind, DetectorSpec, ObjectClass
from cityops.video.analytics.detectors import (
    BlobClassifier,
    BlobRules,
    DetectorError,
    HogPeopleDetector,
    make_detector,
)
from cityops.video.analytics.detectors.blob import unclaimed_people
from cityops.video.analytics.motion import MotionDetector
from cityops.video.analytics.types import Box, Detection

P, V, B = ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE


def test_blobs_by_shape_and_size() -> None:
    blobs = BlobClassifier()
    # in a 4:3 frame (the default): aspects in pixels 2.5, 0.5 and 1.2
    person = Box(0.5, 0.5, 0.53, 0.6)  # 3 x 10 % of the picture: tall and small
    car = Box(0.2, 0.5, 0.35, 0.6)  # wide
    cyclist = Box(0.6, 0.5, 0.66, 0.596)  # a little taller than wide
    speck = Box(0.1, 0.1, 0.11, 0.11)
    tall_and_huge = Box(0.0, 0.0, 0.4, 0.9)
    found = blobs.detect(np.zeros((30, 40, 3), np.uint8), [person, car, cyclist, speck])
    assert [(d.box, d.cls) for d in found] == [(person, P), (car, V), (cyclist, B)]
    assert blobs.classify(tall_and_huge) is None
    # the aspect is the picture's: 16:9 stretches the same fractions wider
    box = Box(0.5, 0.5, 0.56, 0.6067)
    assert blobs.classify(box, 4 / 3) is P  # 1.33 x taller than wide in pixels
    assert blobs.classify(box, 16 / 9) is V  # as tall as wide: not a person
    wide = np.zeros((90, 160, 3), np.uint8)
    assert [d.cls for d in blobs.detect(wide, [box])] == [V]
    # a motorway camera sees cars from behind, about as tall as wide: its rules say so
    motorway = BlobClassifier(BlobRules(person_min_aspect=3.0, vehicle_max_aspect=3.0))
    assert motorway.classify(Box(0.5, 0.5, 0.56, 0.57)) is V


def test_blobs_of_the_classes_the_camera_can_see() -> None:
    car_from_behind = Box(0.5, 0.5, 0.56, 0.592)  # 1.15 x taller than wide: "a bicycle"
    small = Box(0.5, 0.5, 0.52, 0.53)  # 0.06 % of the picture, over the 0.04 % of noise
    assert BlobClassifier().classify(car_from_behind) is B
    vehicles_only = BlobClassifier(classes=frozenset({V}))
    assert vehicles_only.classify(car_from_behind) is V
    assert vehicles_only.classify(small) is V
    assert vehicles_only.classify(Box(0.1, 0.1, 0.11, 0.11)) is None  # noise stays noise
    no_bicycles = BlobClassifier(classes=frozenset({P, V}))
    assert no_bicycles.classify(car_from_behind) is V  # 1.15: nearer a car's 1.1 than 1.3
    assert no_bicycles.classify(Box(0.5, 0.5, 0.56, 0.6)) is P  # 1.25: nearer a person's
    assert make_detector(DetectorSpec(classes=frozenset({V}))).classify(small) is V  # type: ignore[attr-defined]


def test_make_detector_by_kind() -> None:
    assert isinstance(make_detector(DetectorSpec()), BlobClassifier)
    hog = make_detector(DetectorSpec(kind=DetectorKind.HOG, min_confidence=0.8))
    assert isinstance(hog, HogPeopleDetector)
    assert hog.min_confidence == 0.8
    with pytest.raises(DetectorError, match="model_path"):
        make_detector(DetectorSpec(kind=DetectorKind.ONNX))
    with pytest.raises(DetectorError, match="no ONNX model"):
        make_detector(DetectorSpec(kind=DetectorKind.ONNX, model_path="/nonexistent.onnx"))


# Frame 40 of the PETS clip, looked at in an image viewer (written with cv2.imwrite): five
# people walk in the middle of the picture; their boxes in pixels, drawn by hand.
PETS_FRAME_40_PEOPLE = [
    (233, 110, 252, 162),
    (272, 118, 290, 170),
    (355, 147, 377, 207),
    (376, 146, 396, 205),
    (460, 180, 480, 248),
]


def pets_frame_and_motion(shared_data: Path, index: int) -> tuple[np.ndarray, list[Box]]:  # type: ignore[type-arg]
    cap = cv2.VideoCapture(str(shared_data / "video" / "pets2009_s2l1_vtest_480x360.avi"))
    motion = MotionDetector()
    regions: list[Box] = []
    for i in range(index + 1):
        ok, frame = cap.read()
        assert ok
        if i % 2 == 0:
            regions = list(motion.detect(frame).regions)
    cap.release()
    return frame, regions


@pytest.mark.shared_data
def test_hog_finds_the_people_of_a_real_frame_in_its_motion_regions(shared_data: Path) -> None:
    frame, regions = pets_frame_and_motion(shared_data, 40)
    found = HogPeopleDetector().detect(frame, regions)
    hit = set()
    for d in found:
        cx, cy = d.box.center[0] * 480, d.box.center[1] * 360
        inside = [
            i
            for i, (x1, y1, x2, y2) in enumerate(PETS_FRAME_40_PEOPLE)
            if x1 - 8 <= cx <= x2 + 8 and y1 - 8 <= cy <= y2 + 8
        ]
        assert inside, f"a detection where nobody is: {d.box}"
        hit |= set(inside)
        assert d.cls is P
    assert len(hit) >= 3  # the person cut by the right edge and pairs walking close are hard
    # nothing where only grass moved, and no work at all without motion
    assert HogPeopleDetector().detect(frame, [Box(0.05, 0.65, 0.3, 0.95)]) == []
    assert HogPeopleDetector().detect(frame, []) == []


def test_people_blobs_fill_in_only_where_the_people_detector_found_nobody() -> None:
    """With HOG, a person-shaped motion region no HOG detection overlaps is a person too (the
    frames where HOG blinks); a region HOG claimed, and a car-shaped one, are not."""
    frame = np.zeros((300, 400, 3), np.uint8)  # 4:3
    walker = Box(0.1, 0.2, 0.15, 0.5)  # 20 x 90 px: a person's shape
    claimed = Box(0.5, 0.2, 0.55, 0.5)
    car = Box(0.6, 0.6, 0.9, 0.8)  # 120 x 60 px
    hog = [Detection(Box(0.51, 0.22, 0.56, 0.52), ObjectClass.PERSON, 0.9)]
    found = unclaimed_people(BlobClassifier(), frame, [walker, claimed, car], hog)
    assert found == [Detection(walker, ObjectClass.PERSON, BlobRules().score)]
