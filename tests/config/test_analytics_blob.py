"""``detector.blob``: the motion-blob detector's shapes per camera, from the YAML to the
classifier the worker builds; inconsistent shapes and a blob block on another detector are
located errors."""

from __future__ import annotations

import pytest

from cityops.config import load_config_text
from cityops.domain.analytics import BlobShape, ObjectClass
from cityops.video.analytics.detectors import BlobClassifier, make_detector
from cityops.video.analytics.types import Box
from tests.config.snippets import CAMERA, HEAD, issues

BLOB = (
    CAMERA[: CAMERA.index("    zones:")]
    + """\
    analytics:
      detector:
        kind: motion_blob
        blob:
          person_min_aspect: 2.0
          vehicle_max_aspect: 0.8
          vehicle_min_area: 0.01
"""
)
"""Lines 4-18 after HEAD: detector at 13, blob at 15, vehicle_min_area at 18."""


def test_blob_shapes_reach_the_classifier() -> None:
    (camera,) = load_config_text(HEAD + BLOB, "t.yaml").cameras
    assert camera.analytics is not None
    shape = camera.analytics.detector.blob
    assert shape == BlobShape(person_min_aspect=2.0, vehicle_max_aspect=0.8, vehicle_min_area=0.01)
    detector = make_detector(camera.analytics.detector)
    assert isinstance(detector, BlobClassifier)
    # a box 1.5 times taller than wide (in pixels of a 4:3 frame) of 0.6 % of the image: a
    # person by the default shapes, a bicycle by these (a person must be twice as tall)
    box = Box(0.45, 0.4, 0.45 + 0.0632, 0.4 + 0.0632 * 1.5 * 4 / 3)
    assert BlobClassifier().classify(box) is ObjectClass.PERSON
    assert detector.classify(box) is ObjectClass.BICYCLE


def test_without_a_blob_block_the_defaults_hold() -> None:
    text = HEAD + BLOB[: BLOB.index("        blob:")]
    (camera,) = load_config_text(text, "t.yaml").cameras
    assert camera.analytics is not None
    assert camera.analytics.detector.blob == BlobShape()


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "vehicle_max_aspect: 0.8",
            "vehicle_max_aspect: 2.5",
            "t.yaml:15:9: cameras[0].analytics.detector.blob: vehicle_max_aspect "
            "(2.5) must be below person_min_aspect (2): a shape cannot be both",
        ),
        (
            "kind: motion_blob",
            "kind: hog",
            "t.yaml:13:7: cameras[0].analytics.detector: blob is only for kind "
            "motion_blob, not hog",
        ),
        (
            "vehicle_min_area: 0.01",
            "vehicle_min_area: 0",
            "t.yaml:18:11: cameras[0].analytics.detector.blob.vehicle_min_area: Input should be "
            "greater than 0",
        ),
    ],
)
def test_bad_blob_shapes_are_located_errors(old: str, new: str, expected: str) -> None:
    assert issues(HEAD + BLOB.replace(old, new)) == [expected]
