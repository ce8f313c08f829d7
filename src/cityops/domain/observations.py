"""What flows in: sensor readings and events from cameras or outside systems."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cityops.domain.entities import LonLat


@dataclass(frozen=True, slots=True)
class Reading:
    """One value of one sensor at one time (``ts`` is timezone-aware UTC)."""

    municipality: str
    sensor_id: str
    ts: datetime
    value: float


class EventSource(StrEnum):
    CAMERA = "camera"
    EXTERNAL = "external"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened at a place: a camera detection, an outside alert, a 112 call."""

    municipality: str
    event_id: str
    source: EventSource
    source_id: str
    kind: str
    ts: datetime
    position: LonLat | None = None
    zone: str | None = None
    confidence: float | None = None
    attributes: Mapping[str, str] = field(default_factory=dict)


# Spellings of the same unit that devices send; the key is the canonical form.
_UNIT_ALIASES: dict[str, tuple[str, ...]] = {
    "µg/m³": ("ug/m3", "µg/m3", "μg/m3", "μg/m³", "ug/m³", "microgram/m3"),
    "mg/m³": ("mg/m3",),
    "°C": ("c", "degc", "celsius", "deg c", "℃"),
    "%": ("percent", "pct", "%rh"),
    "m": ("metre", "meter", "meters", "metres"),
    "mm": ("millimetre", "millimeter"),
    "m³/s": ("m3/s", "cumec"),
    "vehicles/h": ("veh/h", "vehicles per hour"),
    "vehicles": ("veh", "count"),
    "dB(A)": ("dba", "db(a)", "db"),
    "m/s": ("mps",),
    "hPa": ("hpa", "mbar"),
}
_CANONICAL = {alias: unit for unit, aliases in _UNIT_ALIASES.items() for alias in aliases}
_CANONICAL.update({unit.lower(): unit for unit in _UNIT_ALIASES})


def canonical_unit(unit: str) -> str:
    """The canonical spelling of ``unit`` (unknown units are returned stripped, unchanged)."""
    stripped = unit.strip()
    return _CANONICAL.get(stripped.lower(), stripped)


def same_unit(a: str, b: str) -> bool:
    return canonical_unit(a) == canonical_unit(b)
