"""The shape of a municipality's YAML file: one Pydantic model per section (the rules are in
``cityops.config.schema_rules``).

The models check types, ranges and required fields. References between sections (a rule naming
an agency, a zone, a sensor) are checked in ``cityops.config.checks``; ``ConfigFile.to_domain``
then turns the validated file into the domain value ``MunicipalityConfig``.
See docs/CONFIG.md for the format.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict

from cityops.config.base import Model
from cityops.config.fields import (
    Email,
    FieldOfView,
    Heading,
    Id,
    ImagePolygon,
    Importance,
    Lat,
    Lon,
    Name,
    Number,
    Paragraph,
    Phone,
    PositiveDuration,
    StreamUrl,
    TimeZone,
    Unit,
    WebhookUrl,
)
from cityops.config.schema_analytics import AnalyticsModel
from cityops.config.schema_dispatch import AgencyDispatchModel
from cityops.config.schema_frigate import FrigateModel
from cityops.config.schema_persons import PersonsModel
from cityops.config.schema_retention import RetentionModel
from cityops.config.schema_rules import RuleModel
from cityops.config.schema_sharing import SharingModel
from cityops.config.schema_warnings import PublicWarningsModel
from cityops.domain.catalog import MunicipalityConfig, SopStep, StandardOperatingProcedure
from cityops.domain.entities import (
    Agency,
    AgencyKind,
    Camera,
    KeyObject,
    KeyObjectKind,
    LonLat,
    Municipality,
    Sector,
    Sensor,
    SensorKind,
)
from cityops.domain.observations import canonical_unit
from cityops.domain.rules import Rule


class Point(Model):
    lon: Lon
    lat: Lat

    def to_domain(self) -> LonLat:
        return LonLat(self.lon, self.lat)


class MunicipalitySection(Model):
    id: Id
    name: Name
    name_local: Name | None = None
    timezone: TimeZone = "Europe/Sofia"
    center: Point | None = None

    def to_domain(self) -> Municipality:
        return Municipality(
            id=self.id,
            name=self.name,
            timezone=self.timezone,
            center=self.center.to_domain() if self.center else None,
            name_local=self.name_local,
        )


class AgencyModel(Model):
    id: Id
    name: Name
    name_local: Name | None = None
    kind: AgencyKind
    phone: Phone | None = None
    email: Email | None = None
    webhook_url: WebhookUrl | None = None
    dispatch: AgencyDispatchModel | None = None
    """Where a dispatched incident goes (config/schema_dispatch.py, docs/DISPATCH.md)."""

    def to_domain(self, municipality: str) -> Agency:
        return Agency(
            id=self.id,
            municipality=municipality,
            name=self.name,
            kind=self.kind,
            phone=self.phone,
            email=self.email,
            webhook_url=self.webhook_url,
            name_local=self.name_local,
        )


class KeyObjectModel(Model):
    id: Id
    name: Name
    name_local: Name | None = None
    kind: KeyObjectKind
    lon: Lon
    lat: Lat
    importance: dict[Sector, Importance] = Field(default_factory=dict)

    def to_domain(self, municipality: str) -> KeyObject:
        return KeyObject(
            id=self.id,
            municipality=municipality,
            name=self.name,
            kind=self.kind,
            position=LonLat(self.lon, self.lat),
            importance=dict(self.importance),
            name_local=self.name_local,
        )


class CameraModel(Model):
    id: Id
    name: Name
    name_local: Name | None = None
    lon: Lon
    lat: Lat
    heading_deg: Heading
    fov_deg: FieldOfView
    range_m: Annotated[float, Strict(), Field(gt=0.0, le=5000.0)]
    stream_url: StreamUrl | None = None
    privacy_masks: list[ImagePolygon] = Field(default_factory=list, max_length=32)
    zones: dict[Id, ImagePolygon] = Field(default_factory=dict, max_length=32)
    analytics: AnalyticsModel | None = None
    demo_stream_url: StreamUrl | None = None
    """Shown by ``cityops demo`` when it has no recorded clips (docs/CONFIG.md)."""

    def to_domain(self, municipality: str) -> Camera:
        return Camera(
            id=self.id,
            municipality=municipality,
            name=self.name,
            position=LonLat(self.lon, self.lat),
            heading_deg=self.heading_deg,
            fov_deg=self.fov_deg,
            range_m=self.range_m,
            stream_url=self.stream_url,
            privacy_masks=tuple(tuple(p) for p in self.privacy_masks),
            zones={name: tuple(p) for name, p in self.zones.items()},
            name_local=self.name_local,
            analytics=self.analytics.to_domain() if self.analytics else None,
            demo_stream_url=self.demo_stream_url,
        )


class SensorModel(Model):
    id: Id
    name: Name
    name_local: Name | None = None
    kind: SensorKind
    unit: Unit
    lon: Lon
    lat: Lat
    valid_min: Number | None = None
    valid_max: Number | None = None
    expected_interval_s: PositiveDuration | None = None

    def to_domain(self, municipality: str) -> Sensor:
        return Sensor(
            id=self.id,
            municipality=municipality,
            name=self.name,
            kind=self.kind,
            unit=canonical_unit(self.unit),
            position=LonLat(self.lon, self.lat),
            valid_min=self.valid_min,
            valid_max=self.valid_max,
            expected_interval_s=self.expected_interval_s,
            name_local=self.name_local,
        )


class SopStepModel(Model):
    id: Id
    text: Paragraph
    text_local: Paragraph | None = None
    agency: Id | None = None

    def to_domain(self) -> SopStep:
        return SopStep(id=self.id, text=self.text, text_local=self.text_local, agency=self.agency)


class SopModel(Model):
    incident_type: Id
    title: Name
    title_local: Name | None = None
    steps: list[SopStepModel] = Field(min_length=1, max_length=50)

    def to_domain(self) -> StandardOperatingProcedure:
        return StandardOperatingProcedure(
            incident_type=self.incident_type,
            title=self.title,
            steps=tuple(step.to_domain() for step in self.steps),
            title_local=self.title_local,
        )


class ConfigFile(Model):
    """The whole file. Every list may be empty except that a municipality is required."""

    version: Literal[1] = 1
    municipality: MunicipalitySection
    agencies: list[AgencyModel] = Field(default_factory=list)
    key_objects: list[KeyObjectModel] = Field(default_factory=list)
    cameras: list[CameraModel] = Field(default_factory=list)
    sensors: list[SensorModel] = Field(default_factory=list)
    rules: list[RuleModel] = Field(default_factory=list)
    sops: list[SopModel] = Field(default_factory=list)
    frigate: FrigateModel | None = None
    retention: RetentionModel | None = None
    public_warnings: PublicWarningsModel | None = None
    sharing: SharingModel | None = None
    persons: PersonsModel = Field(default_factory=PersonsModel)

    def to_domain(self) -> MunicipalityConfig:
        mid = self.municipality.id
        rules: tuple[Rule, ...] = tuple(rule.to_domain(mid) for rule in self.rules)
        return MunicipalityConfig(
            municipality=self.municipality.to_domain(),
            agencies=tuple(a.to_domain(mid) for a in self.agencies),
            key_objects=tuple(k.to_domain(mid) for k in self.key_objects),
            cameras=tuple(c.to_domain(mid) for c in self.cameras),
            sensors=tuple(s.to_domain(mid) for s in self.sensors),
            rules=rules,
            sops=tuple(s.to_domain() for s in self.sops),
            frigate=self.frigate.to_domain() if self.frigate else None,
            retention=self.retention.to_domain() if self.retention else None,
            dispatch=tuple(a.dispatch.to_domain(a.id) for a in self.agencies if a.dispatch),
            public_warnings=self.public_warnings.to_domain() if self.public_warnings else None,
            sharing=(self.sharing or SharingModel()).to_domain(),
            persons=self.persons.to_domain(),
        )
