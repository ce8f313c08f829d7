"""The ``analytics:`` block of a camera: what the video worker watches for on its stream.

See docs/CONFIG.md, "Video analytics". Zones and lines are in image fractions (x right, y down,
0..1). References to counter sensors and the zone ids rules use are checked in
``cityops.config.checks``.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, Strict, StringConstraints, model_validator

from cityops.config.base import Model
from cityops.config.fields import (
    Fraction,
    Id,
    ImagePolygon,
    PositiveDuration,
    TimeWindow,
    check_line,
)
from cityops.domain.analytics import AnalyticsZone as DomainZone
from cityops.domain.analytics import (
    BlobShape,
    CameraAnalytics,
    CountLine,
    DetectorKind,
    DetectorSpec,
    LineDirection,
    ObjectClass,
    Schedule,
    TamperSpec,
    ZoneKind,
)
from cityops.domain.analytics import TimeWindow as DomainWindow

ImagePointModel = tuple[Fraction, Fraction]
"""A point in image fractions: [x, y]."""


def _unique(values: list[ObjectClass]) -> list[ObjectClass]:
    if len(set(values)) != len(values):
        raise ValueError("a class is named twice")
    return values


Classes = Annotated[list[ObjectClass], Field(min_length=1, max_length=4), AfterValidator(_unique)]
FilePath = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(description="a file on the worker's host"),
]
Fps = Annotated[float, Strict(), Field(gt=0.0, le=30.0)]
Degrees = Annotated[float, Strict(), Field(ge=0.0, lt=360.0)]
Count = Annotated[int, Strict(), Field(ge=1, le=10_000)]


class ZoneModel(Model):
    id: Id
    polygon: ImagePolygon
    kind: ZoneKind = ZoneKind.PRESENCE
    classes: Classes = Field(default_factory=lambda: [ObjectClass.PERSON, ObjectClass.VEHICLE])
    schedule: list[TimeWindow] = Field(default_factory=list, max_length=8)
    """Local time windows ``"21:00-06:00"`` when the zone is watched; none: always."""
    loiter_s: PositiveDuration | None = None
    crowd_max: Count | None = None
    stopped_s: PositiveDuration | None = None
    direction_deg: Degrees | None = None

    def to_domain(self) -> DomainZone:
        return DomainZone(
            id=self.id,
            polygon=tuple(self.polygon),
            kind=self.kind,
            classes=frozenset(self.classes),
            schedule=Schedule(tuple(DomainWindow(a, b) for a, b in self.schedule)),
            loiter_s=self.loiter_s,
            crowd_max=self.crowd_max,
            stopped_s=self.stopped_s,
            direction_deg=self.direction_deg,
        )


class LineModel(Model):
    id: Id
    a: ImagePointModel
    b: ImagePointModel
    classes: Classes = Field(default_factory=lambda: [ObjectClass.VEHICLE])
    sensors: dict[LineDirection, Id] = Field(default_factory=dict)
    """Counter sensor per direction: ``{forward: <sensor id>, backward: <sensor id>}``."""
    interval_s: PositiveDuration = 60.0

    def to_domain(self) -> CountLine:
        return CountLine(
            id=self.id,
            a=self.a,
            b=self.b,
            classes=frozenset(self.classes),
            sensors=dict(self.sensors),
            interval_s=self.interval_s,
        )


AreaFraction = Annotated[float, Strict(), Field(gt=0.0, le=1.0)]
Aspect = Annotated[float, Strict(), Field(gt=0.0, le=20.0)]


class BlobModel(Model):
    """``detector.blob``: the motion-blob detector's shapes (docs/CONFIG.md)."""

    person_min_aspect: Aspect = 1.3
    person_max_area: AreaFraction = 0.06
    vehicle_max_aspect: Aspect = 1.1
    vehicle_min_area: AreaFraction = 0.002
    min_area: AreaFraction = 0.0004

    @model_validator(mode="after")
    def _consistent(self) -> BlobModel:
        if self.vehicle_max_aspect >= self.person_min_aspect:
            raise ValueError(
                f"vehicle_max_aspect ({self.vehicle_max_aspect:g}) must be below "
                f"person_min_aspect ({self.person_min_aspect:g}): a shape cannot be both"
            )
        if self.min_area > min(self.vehicle_min_area, self.person_max_area):
            raise ValueError(
                "min_area must not exceed vehicle_min_area nor person_max_area: no blob would "
                "be of that class"
            )
        return self

    def to_domain(self) -> BlobShape:
        return BlobShape(
            person_min_aspect=self.person_min_aspect,
            person_max_area=self.person_max_area,
            vehicle_max_aspect=self.vehicle_max_aspect,
            vehicle_min_area=self.vehicle_min_area,
            min_area=self.min_area,
        )


class DetectorModel(Model):
    kind: DetectorKind = DetectorKind.MOTION_BLOB
    model_path: FilePath | None = None
    min_confidence: Fraction = 0.5
    classes: Classes = Field(
        default_factory=lambda: [ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE]
    )
    blob: BlobModel | None = None

    @model_validator(mode="after")
    def _model_file(self) -> DetectorModel:
        if self.blob is not None and self.kind is not DetectorKind.MOTION_BLOB:
            raise ValueError(f"blob is only for kind motion_blob, not {self.kind.value}")
        if self.model_path is not None:
            check_line(self.model_path)
        if self.kind is DetectorKind.ONNX and self.model_path is None:
            raise ValueError(
                "an onnx detector needs model_path: the .onnx file on the worker's host "
                "(see docs/VIDEO.md, Detectors)"
            )
        if self.kind is not DetectorKind.ONNX and self.model_path is not None:
            raise ValueError(f"model_path is only for kind onnx, not {self.kind.value}")
        return self

    def to_domain(self) -> DetectorSpec:
        return DetectorSpec(
            self.kind,
            self.model_path,
            self.min_confidence,
            classes=frozenset(self.classes),
            blob=(self.blob or BlobModel()).to_domain(),
        )


class TamperModel(Model):
    enabled: Annotated[bool, Strict()] = True
    hold_s: PositiveDuration = 10.0

    def to_domain(self) -> TamperSpec:
        return TamperSpec(self.enabled, self.hold_s)


class AnalyticsModel(Model):
    fps: Fps = 5.0
    detector: DetectorModel = Field(default_factory=DetectorModel)
    zones: list[ZoneModel] = Field(default_factory=list, max_length=32)
    lines: list[LineModel] = Field(default_factory=list, max_length=32)
    tamper: TamperModel = Field(default_factory=TamperModel)
    blur_people: Annotated[bool, Strict()] = False
    blur_faces: Annotated[bool, Strict()] = False

    def to_domain(self) -> CameraAnalytics:
        return CameraAnalytics(
            fps=self.fps,
            detector=self.detector.to_domain(),
            zones=tuple(z.to_domain() for z in self.zones),
            lines=tuple(line.to_domain() for line in self.lines),
            tamper=self.tamper.to_domain(),
            blur_people=self.blur_people,
            blur_faces=self.blur_faces,
        )
