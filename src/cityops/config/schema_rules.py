"""The ``rules:`` section: one model per rule kind, told apart by ``kind``.

See docs/CONFIG.md for the format.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, Strict, model_validator

from cityops.config.base import Model
from cityops.config.fields import (
    Duration,
    EventKind,
    Fraction,
    Id,
    Number,
    PositiveDuration,
    PositiveNumber,
    TimeWindow,
    TitleTemplate,
)
from cityops.domain.entities import Sector, SensorKind, Severity
from cityops.domain.rules import (
    CameraEventRule,
    Comparison,
    CorrelationRule,
    RateOfChangeRule,
    RuleOutcome,
    SensorSelector,
    SilenceRule,
    ThresholdRule,
)


class OutcomeModel(Model):
    """The ``incident:`` block of a rule: what incident it proposes."""

    type: Id
    sector: Sector
    severity: Severity
    title: TitleTemplate
    title_local: TitleTemplate | None = None
    agency: Id | None = None

    def to_domain(self) -> RuleOutcome:
        return RuleOutcome(
            incident_type=self.type,
            sector=self.sector,
            severity=self.severity,
            title=self.title,
            agency=self.agency,
            title_local=self.title_local,
        )


class _RuleBase(Model):
    id: Id
    incident: OutcomeModel


class _SensorRuleBase(_RuleBase):
    sensors: list[Id] = Field(default_factory=list, max_length=1000)
    sensor_kinds: list[SensorKind] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _selects_something(self) -> _SensorRuleBase:
        if not self.sensors and not self.sensor_kinds:
            raise ValueError("name the sensors to watch: 'sensors', 'sensor_kinds' or both")
        return self

    def selector(self) -> SensorSelector:
        return SensorSelector(sensor_ids=tuple(self.sensors), kinds=tuple(self.sensor_kinds))


class ThresholdModel(_SensorRuleBase):
    kind: Literal["threshold"]
    op: Literal[">", "<"]
    value: Number
    for_s: Duration = Field(default=0.0, alias="for")
    clear_value: Number | None = None
    clear_for_s: Duration = Field(default=0.0, alias="clear_for")

    @model_validator(mode="after")
    def _clear_side(self) -> ThresholdModel:
        if self.clear_value is None:
            return self
        if self.op == ">" and self.clear_value > self.value:
            raise ValueError("with op '>' the clear_value must not be above value")
        if self.op == "<" and self.clear_value < self.value:
            raise ValueError("with op '<' the clear_value must not be below value")
        return self

    def to_domain(self, municipality: str) -> ThresholdRule:
        return ThresholdRule(
            id=self.id,
            municipality=municipality,
            outcome=self.incident.to_domain(),
            sensors=self.selector(),
            op=Comparison.ABOVE if self.op == ">" else Comparison.BELOW,
            value=self.value,
            for_s=self.for_s,
            clear_value=self.clear_value,
            clear_for_s=self.clear_for_s,
        )


class RateOfChangeModel(_SensorRuleBase):
    kind: Literal["rate_of_change"]
    rise: PositiveNumber | None = None
    fall: PositiveNumber | None = None
    within: PositiveDuration
    clear_for_s: Duration = Field(default=0.0, alias="clear_for")

    @model_validator(mode="after")
    def _one_direction(self) -> RateOfChangeModel:
        if (self.rise is None) == (self.fall is None):
            raise ValueError("give exactly one of 'rise' or 'fall'")
        return self

    def to_domain(self, municipality: str) -> RateOfChangeRule:
        change = self.rise if self.rise is not None else -(self.fall or 0.0)
        return RateOfChangeRule(
            id=self.id,
            municipality=municipality,
            outcome=self.incident.to_domain(),
            sensors=self.selector(),
            change=change,
            window_s=self.within,
            clear_for_s=self.clear_for_s,
        )


class SilenceModel(_SensorRuleBase):
    kind: Literal["silence"]
    silence: PositiveDuration

    def to_domain(self, municipality: str) -> SilenceRule:
        return SilenceRule(
            id=self.id,
            municipality=municipality,
            outcome=self.incident.to_domain(),
            sensors=self.selector(),
            silence_s=self.silence,
        )


class CameraEventModel(_RuleBase):
    kind: Literal["camera_event"]
    event_kinds: list[EventKind] = Field(min_length=1, max_length=50)
    cameras: list[Id] = Field(default_factory=list, max_length=1000)
    zones: list[Id] = Field(default_factory=list, max_length=50)
    between: TimeWindow | None = None
    min_confidence: Fraction = 0.0

    def to_domain(self, municipality: str) -> CameraEventRule:
        return CameraEventRule(
            id=self.id,
            municipality=municipality,
            outcome=self.incident.to_domain(),
            kinds=tuple(self.event_kinds),
            cameras=tuple(self.cameras),
            zones=tuple(self.zones),
            between=self.between,
            min_confidence=self.min_confidence,
        )


class CorrelationModel(_RuleBase):
    kind: Literal["correlation"]
    event_kinds: list[EventKind] = Field(min_length=1, max_length=50)
    min_count: Annotated[int, Strict(), Field(ge=1, le=1000)]
    radius_m: Annotated[float, Strict(), Field(gt=0.0, le=50_000.0)]
    within: PositiveDuration
    cameras: list[Id] = Field(default_factory=list, max_length=1000)
    zones: list[Id] = Field(default_factory=list, max_length=50)

    def to_domain(self, municipality: str) -> CorrelationRule:
        return CorrelationRule(
            id=self.id,
            municipality=municipality,
            outcome=self.incident.to_domain(),
            kinds=tuple(self.event_kinds),
            min_count=self.min_count,
            radius_m=self.radius_m,
            window_s=self.within,
            cameras=tuple(self.cameras),
            zones=tuple(self.zones),
        )


RuleModel = Annotated[
    ThresholdModel | RateOfChangeModel | SilenceModel | CameraEventModel | CorrelationModel,
    Field(discriminator="kind"),
]
RULE_KINDS = ("threshold", "rate_of_change", "silence", "camera_event", "correlation")
