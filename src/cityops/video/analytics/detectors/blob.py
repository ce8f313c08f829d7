"""Moving blobs classified by size and shape: no model, the cheapest detector.

Each motion region is one object; its class follows from its shape and size in the image:
taller than wide and not too big is a person, wide and large enough is a vehicle, a shape in
between (a cyclist seen from the side) a bicycle.
The thresholds depend on the camera's view (how big a car looks) and are configurable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cv2.typing import MatLike

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.types import Box, Detection


@dataclass(frozen=True, slots=True)
class BlobRules:
    person_min_aspect: float = 1.3
    """A person's box is at least this many times taller than wide."""
    person_max_area: float = 0.06
    """... and covers at most this fraction of the image."""
    vehicle_max_aspect: float = 1.0
    """A vehicle's box is at most this tall for its width ..."""
    vehicle_min_area: float = 0.002
    """... and covers at least this fraction of the image."""
    min_area: float = 0.0004
    """Blobs smaller than this are noise."""
    score: float = 0.6
    """The confidence given to a classified blob (shape alone is weak evidence)."""


class BlobClassifier:
    def __init__(self, rules: BlobRules | None = None) -> None:
        self.rules = rules or BlobRules()

    def classify(self, box: Box) -> ObjectClass | None:
        r = self.rules
        w, h = box.x2 - box.x1, box.y2 - box.y1
        area = w * h
        if area < r.min_area or w <= 0:
            return None
        aspect = h / w
        if aspect >= r.person_min_aspect:
            return ObjectClass.PERSON if area <= r.person_max_area else None
        if aspect <= r.vehicle_max_aspect:
            return ObjectClass.VEHICLE if area >= r.vehicle_min_area else None
        return ObjectClass.BICYCLE

    def detect(self, frame: MatLike, regions: Sequence[Box]) -> list[Detection]:
        out = []
        for box in regions:
            cls = self.classify(box)
            if cls is not None:
                out.append(Detection(box, cls, self.rules.score))
        return out
