"""Detectors behind one interface: ``Detector.detect(frame, regions) -> list[Detection]``.

``make_detector(spec)`` builds the one a camera's ``DetectorSpec`` names.
"""

from __future__ import annotations

from cityops.domain.analytics import DetectorKind, DetectorSpec
from cityops.video.analytics.detectors.base import Detector, DetectorError
from cityops.video.analytics.detectors.blob import BlobClassifier, BlobRules
from cityops.video.analytics.detectors.hog import HogPeopleDetector
from cityops.video.analytics.detectors.onnx import COCO_CLASSES, OnnxDetector, OnnxFormat

__all__ = [
    "COCO_CLASSES",
    "BlobClassifier",
    "BlobRules",
    "Detector",
    "DetectorError",
    "HogPeopleDetector",
    "OnnxDetector",
    "OnnxFormat",
    "make_detector",
]


def make_detector(spec: DetectorSpec) -> Detector:
    """The detector ``spec`` names; raises DetectorError when it cannot be built (no model)."""
    if spec.kind is DetectorKind.HOG:
        return HogPeopleDetector(min_confidence=spec.min_confidence)
    if spec.kind is DetectorKind.ONNX:
        if not spec.model_path:
            raise DetectorError("an ONNX detector needs model_path (see docs/VIDEO.md)")
        return OnnxDetector(
            spec.model_path, min_confidence=spec.min_confidence, classes=spec.classes
        )
    return BlobClassifier(BlobRules.of(spec.blob), classes=spec.classes)
