"""Rule specifications and what a rule emits when its condition starts or stops holding.

The specifications are plain data (loaded from a municipality's YAML); their evaluation lives in
``cityops.domain.engine``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum

from cityops.domain.entities import LonLat, Sector, Sensor, SensorKind, Severity


class Comparison(StrEnum):
    ABOVE = "above"
    BELOW = "below"

    def holds(self, value: float, limit: float) -> bool:
        return value > limit if self is Comparison.ABOVE else value < limit


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """The incident a rule proposes."""

    incident_type: str
    sector: Sector
    severity: Severity
    title: str
    agency: str | None = None
    title_local: str | None = None
    """The title in the municipality's language (Bulgarian in Kazanlak)."""


@dataclass(frozen=True, slots=True)
class SensorSelector:
    """Which sensors a rule watches: listed ids, sensors of listed kinds, or both."""

    sensor_ids: tuple[str, ...] = ()
    kinds: tuple[SensorKind, ...] = ()

    def matches(self, sensor: Sensor) -> bool:
        return sensor.id in self.sensor_ids or sensor.kind in self.kinds


@dataclass(frozen=True, slots=True)
class ThresholdRule:
    """Value beyond ``value`` for at least ``for_s`` seconds ("river level > 2.8 m for 10 min").

    It clears only once the value is back past ``clear_value`` (hysteresis; defaults to
    ``value``) for ``clear_for_s`` seconds.
    """

    id: str
    municipality: str
    outcome: RuleOutcome
    sensors: SensorSelector
    op: Comparison
    value: float
    for_s: float = 0.0
    clear_value: float | None = None
    clear_for_s: float = 0.0


@dataclass(frozen=True, slots=True)
class RateOfChangeRule:
    """Change of more than ``change`` within ``window_s`` ("rises more than 0.3 m in 30 min").

    A positive ``change`` watches rises, a negative one falls.
    """

    id: str
    municipality: str
    outcome: RuleOutcome
    sensors: SensorSelector
    change: float
    window_s: float
    clear_for_s: float = 0.0


@dataclass(frozen=True, slots=True)
class SilenceRule:
    """No reading received for ``silence_s`` seconds: the sensor is offline."""

    id: str
    municipality: str
    outcome: RuleOutcome
    sensors: SensorSelector
    silence_s: float


@dataclass(frozen=True, slots=True)
class CameraEventRule:
    """A camera event of one of ``kinds``, optionally in a zone and a local time-of-day window.

    ``between`` is (start, end) in the municipality's local time and may wrap midnight
    (22:00-06:00). Empty ``cameras`` or ``zones`` mean any.
    """

    id: str
    municipality: str
    outcome: RuleOutcome
    kinds: tuple[str, ...]
    cameras: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()
    between: tuple[time, time] | None = None
    min_confidence: float = 0.0


@dataclass(frozen=True, slots=True)
class CorrelationRule:
    """``min_count`` or more events of ``kinds`` within ``radius_m`` and ``window_s``.

    Optionally only camera events of ``cameras`` and in ``zones`` (empty: any). With
    ``min_count`` 1 it joins what several cameras see of the same place and time into one
    incident: each event raises the rule, and events near each other share one cluster, so one
    incident (two cameras on opposite corners of a crossing reporting the same accident).
    """

    id: str
    municipality: str
    outcome: RuleOutcome
    kinds: tuple[str, ...]
    min_count: int
    radius_m: float
    window_s: float
    cameras: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()


Rule = ThresholdRule | RateOfChangeRule | SilenceRule | CameraEventRule | CorrelationRule


class TriggerKind(StrEnum):
    RAISED = "raised"
    """The condition started to hold (or held again): open an incident or join the open one."""
    CLEARED = "cleared"
    """The condition stopped holding, past hysteresis: noted on the open incident's timeline."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """A rule's output. ``dedup_key`` names the rule and place: one open incident per key."""

    rule_id: str
    municipality: str
    kind: TriggerKind
    at: datetime
    dedup_key: str
    subject: str
    outcome: RuleOutcome
    text: str
    location: LonLat | None = None
    value: float | None = None
    event_ids: tuple[str, ...] = field(default_factory=tuple)
