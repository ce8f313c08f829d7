"""The things a municipality configures: agencies, key objects, cameras and sensors."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # analytics.py imports Polygon from here
    from cityops.domain.analytics import CameraAnalytics


class Sector(StrEnum):
    """The policy sectors an incident belongs to."""

    SAFETY = "safety"
    TRANSPORT = "transport"
    DISASTER = "disaster"
    ENVIRONMENT = "environment"
    UTILITIES = "utilities"


class Severity(StrEnum):
    """Incident severity, using the CAP 1.2 scale so it maps straight onto public warnings."""

    MINOR = "minor"
    MODERATE = "moderate"
    SEVERE = "severe"
    EXTREME = "extreme"

    @property
    def rank(self) -> int:
        """Higher is worse: minor=1 ... extreme=4."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.MINOR: 1,
    Severity.MODERATE: 2,
    Severity.SEVERE: 3,
    Severity.EXTREME: 4,
}


class AgencyKind(StrEnum):
    POLICE = "police"
    FIRE_RESCUE = "fire_rescue"
    AMBULANCE = "ambulance"
    TRAFFIC_POLICE = "traffic_police"
    CIVIL_PROTECTION = "civil_protection"
    MUNICIPAL_SERVICES = "municipal_services"
    UTILITY = "utility"
    SOCIAL_CARE = "social_care"
    EMERGENCY_112 = "emergency_112"
    OTHER = "other"


class KeyObjectKind(StrEnum):
    SCHOOL = "school"
    KINDERGARTEN = "kindergarten"
    HOSPITAL = "hospital"
    CROSSING = "crossing"
    BRIDGE = "bridge"
    RIVER_BANK = "river_bank"
    SQUARE = "square"
    STATION = "station"
    PUBLIC_BUILDING = "public_building"
    CULTURAL_SITE = "cultural_site"
    PARK = "park"
    CARE_HOME = "care_home"
    INDUSTRIAL = "industrial"
    OTHER = "other"


class SensorKind(StrEnum):
    RIVER_LEVEL = "river_level"
    RAINFALL = "rainfall"
    PM10 = "pm10"
    PM25 = "pm25"
    NO2 = "no2"
    O3 = "o3"
    TEMPERATURE = "temperature"
    HUMIDITY = "humidity"
    TRAFFIC_COUNT = "traffic_count"
    NOISE = "noise"
    WIND_SPEED = "wind_speed"
    OTHER = "other"


class SensorState(StrEnum):
    UNKNOWN = "unknown"
    """Nothing received yet."""
    OK = "ok"
    ALARM = "alarm"
    """A threshold or rate-of-change rule is active for the sensor."""
    STALE = "stale"
    """Nothing received for the stale factor times the sensor's expected interval (no rule)."""
    OFFLINE = "offline"
    """A silence rule has raised for the sensor."""


class CameraHealth(StrEnum):
    UNKNOWN = "unknown"
    ONLINE = "online"
    STALE = "stale"
    """The same frame again: a frozen encoder or a stuck stream."""
    TAMPERED = "tampered"
    OFFLINE = "offline"
    """No frame."""


class CameraOfflineError(Exception):
    """A camera has a stream, but no frame came from it."""


@dataclass(frozen=True, slots=True)
class LonLat:
    """A WGS84 position, longitude first (as GeoJSON)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (-180.0 <= self.lon <= 180.0) or not (-90.0 <= self.lat <= 90.0):
            raise ValueError(f"position out of range: lon={self.lon}, lat={self.lat}")
        if math.isnan(self.lon) or math.isnan(self.lat):
            raise ValueError("position is NaN")


@dataclass(frozen=True, slots=True)
class Municipality:
    id: str
    name: str
    timezone: str = "Europe/Sofia"
    center: LonLat | None = None
    name_local: str | None = None


@dataclass(frozen=True, slots=True)
class Agency:
    id: str
    municipality: str
    name: str
    kind: AgencyKind
    phone: str | None = None
    email: str | None = None
    webhook_url: str | None = None
    name_local: str | None = None


@dataclass(frozen=True, slots=True)
class KeyObject:
    """A place the people responsible for a sector named as important."""

    id: str
    municipality: str
    name: str
    kind: KeyObjectKind
    position: LonLat
    importance: Mapping[Sector, int] = field(default_factory=dict)
    name_local: str | None = None


Polygon = tuple[tuple[float, float], ...]
"""A polygon as (x, y) vertices; for privacy masks x, y are fractions of the image (0..1)."""


@dataclass(frozen=True, slots=True)
class Camera:
    id: str
    municipality: str
    name: str
    position: LonLat
    heading_deg: float
    fov_deg: float
    range_m: float
    stream_url: str | None = None
    privacy_masks: tuple[Polygon, ...] = ()
    zones: Mapping[str, Polygon] = field(default_factory=dict)
    name_local: str | None = None
    analytics: CameraAnalytics | None = None
    """What the video worker watches for on this camera's stream (None: no analytics)."""
    demo_stream_url: str | None = None
    """What a demonstration shows instead of ``stream_url`` when it has no recorded clips
    (a ``synthetic://`` scene, see ``cityops.domain.scenes``); never used in production."""

    def __post_init__(self) -> None:
        if not 0.0 < self.fov_deg <= 360.0:
            raise ValueError(f"camera {self.id}: fov_deg must be in (0, 360], got {self.fov_deg}")
        if self.range_m <= 0.0:
            raise ValueError(f"camera {self.id}: range_m must be positive, got {self.range_m}")


@dataclass(frozen=True, slots=True)
class Sensor:
    id: str
    municipality: str
    name: str
    kind: SensorKind
    unit: str
    position: LonLat
    valid_min: float | None = None
    valid_max: float | None = None
    expected_interval_s: float | None = None
    name_local: str | None = None

    def check_value(self, value: float) -> str | None:
        """Why ``value`` is not a plausible reading of this sensor, or None when it is."""
        if math.isnan(value) or math.isinf(value):
            return "value is not a finite number"
        if self.valid_min is not None and value < self.valid_min:
            return f"value {value} below valid range minimum {self.valid_min} {self.unit}"
        if self.valid_max is not None and value > self.valid_max:
            return f"value {value} above valid range maximum {self.valid_max} {self.unit}"
        return None
