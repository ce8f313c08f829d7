"""A CAP 1.2 alert as CityOps reads it (the parts it acts on; the XML stays the record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CAP12_NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP11_NS = "urn:oasis:names:tc:emergency:cap:1.1"

LatLon = tuple[float, float]


@dataclass(frozen=True)
class Reference:
    """One earlier message an Update/Cancel refers to: ``sender,identifier,sent``."""

    sender: str
    identifier: str
    sent: str


@dataclass(frozen=True)
class Circle:
    center: LatLon
    radius_km: float


@dataclass(frozen=True)
class Area:
    description: str
    polygons: tuple[tuple[LatLon, ...], ...]
    circles: tuple[Circle, ...]
    geocodes: tuple[tuple[str, str], ...]  # (valueName, value), e.g. ("EMMA_ID", "BG004")


@dataclass(frozen=True)
class Info:
    language: str
    event: str
    urgency: str
    severity: str
    certainty: str
    headline: str | None
    description: str | None
    expires: datetime | None
    areas: tuple[Area, ...]


@dataclass(frozen=True)
class Alert:
    identifier: str
    sender: str
    sent: datetime
    status: str
    msg_type: str
    scope: str
    references: tuple[Reference, ...]
    infos: tuple[Info, ...]

    @property
    def key(self) -> tuple[str, str]:
        """What a later message's ``references`` names this one by (sender, identifier)."""
        return (self.sender, self.identifier)

    def expires(self) -> datetime | None:
        """The latest expiry of its info blocks (None: one of them never expires)."""
        ends = [i.expires for i in self.infos]
        if not ends or any(e is None for e in ends):
            return None
        return max(e for e in ends if e is not None)
