"""Everything one municipality configures, as one validated value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cityops.domain.dispatch import AgencyChannels
from cityops.domain.entities import Agency, Camera, KeyObject, Municipality, Sensor
from cityops.domain.persons import DEFAULT_PERSONS, PersonsPolicy
from cityops.domain.retention import RetentionPolicy
from cityops.domain.rules import Rule
from cityops.domain.shares import DEFAULT_POLICY, SharingPolicy
from cityops.domain.warnings import PublicWarnings


@dataclass(frozen=True, slots=True)
class SopStep:
    id: str
    text: str
    text_local: str | None = None
    agency: str | None = None
    """The agency this step concerns, if any (e.g. "inform the fire service")."""


@dataclass(frozen=True, slots=True)
class StandardOperatingProcedure:
    """The checklist operators follow for one incident type."""

    incident_type: str
    title: str
    steps: tuple[SopStep, ...]
    title_local: str | None = None


@dataclass(frozen=True, slots=True)
class FrigateSource:
    """A Frigate NVR whose MQTT events (``<topic_prefix>/events``) become this municipality's
    camera events (docs/MQTT.md "Frigate")."""

    topic_prefix: str = "frigate"
    cameras: Mapping[str, str] = field(default_factory=dict)
    """Frigate camera name -> the municipality's camera id."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Frigate label -> event kind; other labels are ignored."""
    min_score: float = 0.0
    """Objects whose ``top_score`` is below this are ignored."""


@dataclass(frozen=True, slots=True)
class MunicipalityConfig:
    municipality: Municipality
    agencies: tuple[Agency, ...] = ()
    key_objects: tuple[KeyObject, ...] = ()
    cameras: tuple[Camera, ...] = ()
    sensors: tuple[Sensor, ...] = ()
    rules: tuple[Rule, ...] = ()
    sops: tuple[StandardOperatingProcedure, ...] = ()
    frigate: FrigateSource | None = None
    retention: RetentionPolicy | None = None
    dispatch: tuple[AgencyChannels, ...] = ()
    """Agencies' dispatch channels (issue 9), one entry per agency that has any."""
    public_warnings: PublicWarnings | None = None
    """CAP alerts matched to the municipality, and the feeds to poll (docs/CAP.md)."""
    sharing: SharingPolicy = DEFAULT_POLICY
    """Agency shares: purposes, durations, auto rules (domain/shares.py, docs/CONFIG.md)."""
    persons: PersonsPolicy = DEFAULT_PERSONS
    """SOS of vulnerable people: track retention, where episodes are forwarded (persons.py)."""

    def sensor(self, sensor_id: str) -> Sensor | None:
        return next((s for s in self.sensors if s.id == sensor_id), None)

    def camera(self, camera_id: str) -> Camera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)

    def channels_of(self, agency: str) -> AgencyChannels | None:
        return next((c for c in self.dispatch if c.agency == agency), None)

    def sop_for(self, incident_type: str) -> StandardOperatingProcedure | None:
        return next((s for s in self.sops if s.incident_type == incident_type), None)
