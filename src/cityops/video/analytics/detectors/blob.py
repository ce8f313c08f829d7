"""Moving blobs classified by size and shape: no model, the cheapest detector.

Each motion region is one object; its class follows from its shape and size in the image:
taller than wide and not too big is a person, wide and large enough is a vehicle, a shape in
between (a cyclist seen from the side) a bicycle.
The thresholds depend on the camera's view (how big a car looks) and are configurable per camera
(``detector.blob`` in the YAML, docs/CONFIG.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cv2.typing import MatLike

from cityops.domain.analytics import BlobShape, ObjectClass
from cityops.video.analytics.detectors.base import overlaps
from cityops.video.analytics.types import Box, Detection


@dataclass(frozen=True, slots=True)
class BlobRules:
    person_min_aspect: float = 1.3
    """A person's box is at least this many times taller than wide (in pixels)."""
    person_max_area: float = 0.06
    """... and covers at most this fraction of the image."""
    vehicle_max_aspect: float = 1.1
    """A vehicle's box is at most this tall for its width (in pixels) ..."""
    vehicle_min_area: float = 0.002
    """... and covers at least this fraction of the image."""
    min_area: float = 0.0004
    """Blobs smaller than this are noise."""
    score: float = 0.6
    """The confidence given to a classified blob (shape alone is weak evidence)."""

    @classmethod
    def of(cls, shape: BlobShape) -> BlobRules:
        """The rules a camera's ``detector.blob`` (YAML) gives."""
        return cls(
            person_min_aspect=shape.person_min_aspect,
            person_max_area=shape.person_max_area,
            vehicle_max_aspect=shape.vehicle_max_aspect,
            vehicle_min_area=shape.vehicle_min_area,
            min_area=shape.min_area,
        )


ALL = frozenset({ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE})


class BlobClassifier:
    """``classes``: what the camera can see. With one class, every blob big enough is of it (a
    car seen from behind is as tall as wide: on a motorway camera it is still a car); a shape
    the rules give to a class the camera cannot see goes to the nearest one it can."""

    def __init__(
        self, rules: BlobRules | None = None, classes: frozenset[ObjectClass] = ALL
    ) -> None:
        self.rules = rules or BlobRules()
        self.classes = classes & ALL

    def classify(self, box: Box, frame_aspect: float = 4 / 3) -> ObjectClass | None:
        """The class of a blob in a frame ``frame_aspect`` (width / height) wide."""
        r = self.rules
        w, h = box.x2 - box.x1, box.y2 - box.y1
        area = w * h
        if area < r.min_area or w <= 0 or not self.classes:
            return None
        if len(self.classes) == 1:
            return next(iter(self.classes))
        aspect = h / (w * frame_aspect)  # in pixels
        if aspect >= r.person_min_aspect:
            cls = ObjectClass.PERSON if area <= r.person_max_area else None
        elif aspect <= r.vehicle_max_aspect:
            cls = ObjectClass.VEHICLE if area >= r.vehicle_min_area else None
        else:
            cls = ObjectClass.BICYCLE
        if cls is None or cls in self.classes:
            return cls
        # between the person's and the vehicle's shape: whichever of them it is nearer
        middle = (r.person_min_aspect + r.vehicle_max_aspect) / 2
        nearer = ObjectClass.PERSON if aspect >= middle else ObjectClass.VEHICLE
        return nearer if nearer in self.classes else None

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        height, width = frame.shape[:2]
        out = []
        for box in regions:
            cls = self.classify(box, width / height)
            if cls is not None:
                out.append(Detection(box, cls, self.rules.score))
        return out


def unclaimed_people(
    classifier: BlobClassifier, frame: MatLike, regions: Sequence[Box], found: Sequence[Detection]
) -> list[Detection]:
    """The motion ``regions`` that no detection in ``found`` overlaps and whose blob has a
    person's shape (by ``classifier``'s rules, whatever its classes): what a people detector
    (HOG) missed in this frame, so a walker's track does not break where the model blinks."""
    height, width = frame.shape[:2]
    people = BlobClassifier(classifier.rules)  # all classes: only a person's shape counts
    out = []
    for box in regions:
        if overlaps(box, [d.box for d in found]):
            continue
        if people.classify(box, width / height) is ObjectClass.PERSON:
            out.append(Detection(box, ObjectClass.PERSON, classifier.rules.score))
    return out
