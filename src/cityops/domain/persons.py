"""Vulnerable people registered for SOS (issue 9 item 4): who they are, their safe area, what
their device tells, and which cameras are nearest to where they are.

A person (a child, a dementia patient) carries a device that posts its position now and then and
an SOS when a button is pressed. A position outside the person's safe area, or an SOS, starts an
*episode*: one incident (``dedup_key`` ``sos|<person>``) that follows the person as positions
arrive, until the operators close it. The payloads themselves are decoded by
``ingest/persons.py`` into :class:`PersonSignal`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shapely.geometry import Point, Polygon

from cityops.domain.entities import Camera, LonLat
from cityops.domain.geo import LocalProjection
from cityops.domain.visibility import cameras_seeing

DEVICE_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
"""A device id: topic-safe, like the device credentials' ids (domain/devices.py)."""
PHONE = re.compile(r"\+?[0-9][0-9 ()./-]{3,30}")
MAX_AREA_POINTS = 200
NEAREST_LIMIT = 6
NEAREST_RADIUS_M = 300.0
"""Cameras farther than this from the person are not offered, even if nothing is nearer."""


class PersonKind(StrEnum):
    CHILD = "child"
    DEMENTIA = "dementia"
    OTHER = "other"


class SignalKind(StrEnum):
    POSITION = "position"
    SOS = "sos"


class PersonError(ValueError):
    """A person's record that cannot be stored as given (the message says why)."""


@dataclass(frozen=True, slots=True)
class Person:
    municipality: str
    kind: PersonKind
    name: str
    guardian_name: str
    guardian_phone: str
    device_id: str
    safe_area: tuple[LonLat, ...] = ()
    """The safe area's outline (at least 3 corners), or empty: no geofence, SOS only."""
    notes: str = ""
    """What helps find or approach the person (clothing, condition); shown with the photo."""
    id: int | None = None
    photo: str | None = None
    """The photo's file name under the municipality's photo directory (services/persons.py)."""
    created_at: datetime | None = None

    def check(self) -> Person:
        """The person itself, or PersonError: what must hold before it is stored."""
        if not DEVICE_ID.fullmatch(self.device_id):
            raise PersonError(
                f"device {self.device_id[:64]!r}: 1-64 lowercase letters, digits, '-' or '_'"
            )
        for what, value, limit in (
            ("name", self.name, 200),
            ("guardian name", self.guardian_name, 200),
        ):
            if not value.strip() or len(value) > limit:
                raise PersonError(f"{what} must be 1-{limit} characters")
        if not PHONE.fullmatch(self.guardian_phone):
            raise PersonError(f"guardian phone {self.guardian_phone[:40]!r} is not a number")
        if len(self.notes) > 2000:
            raise PersonError("notes are at most 2000 characters")
        check_area(self.safe_area)
        return self

    def inside(self, place: LonLat) -> bool | None:
        """Whether ``place`` is inside the safe area (its edge counts as inside); None when the
        person has no safe area."""
        if not self.safe_area:
            return None
        return bool(_polygon(self.safe_area).covers(Point(place.lon, place.lat)))


def check_area(area: Sequence[LonLat]) -> None:
    """A safe area is empty or a simple polygon of 3 to MAX_AREA_POINTS corners."""
    if not area:
        return
    if not 3 <= len(area) <= MAX_AREA_POINTS:
        raise PersonError(f"a safe area has 3 to {MAX_AREA_POINTS} corners")
    poly = _polygon(area)
    if not poly.is_valid or poly.area <= 0.0:
        raise PersonError("the safe area's outline crosses itself or encloses nothing")


def _polygon(area: Sequence[LonLat]) -> Polygon:
    return Polygon([(p.lon, p.lat) for p in area])


@dataclass(frozen=True, slots=True)
class PersonSignal:
    """What a person's device told: where it is, or an SOS (with where, when it knows)."""

    municipality: str
    device_id: str
    kind: SignalKind
    at: datetime
    position: LonLat | None
    accuracy_m: float | None = None
    battery: float | None = None
    """0..1 when the device tells it."""


class EpisodeStart(StrEnum):
    """Why an episode (its incident) started."""

    SOS = "sos"
    LEFT_AREA = "left_area"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one signal means for the person's episode."""

    start: EpisodeStart | None
    """Set when the signal starts an episode (or escalates the open one: an SOS)."""
    inside: bool | None
    """The position against the safe area (None: no position or no safe area)."""
    notes: tuple[str, ...] = field(default_factory=tuple)


def judge(person: Person, signal: PersonSignal, was_inside: bool | None) -> Verdict:
    """An SOS always starts (or escalates) an episode; a position does when it is outside the
    safe area and the previous one was not (``was_inside``: the last known verdict, None when
    unknown: a first position outside starts one too)."""
    inside = person.inside(signal.position) if signal.position else None
    if signal.kind is SignalKind.SOS:
        return Verdict(EpisodeStart.SOS, inside)
    if inside is False and was_inside is not False:
        return Verdict(EpisodeStart.LEFT_AREA, inside)
    return Verdict(None, inside)


def nearest_cameras(
    place: LonLat,
    cameras: Iterable[Camera],
    projection: LocalProjection,
    *,
    limit: int = NEAREST_LIMIT,
    radius_m: float = NEAREST_RADIUS_M,
) -> list[dict[str, float | str | bool]]:
    """The cameras an operator should look through: those whose field of view holds the place,
    nearest first, then the nearest others within ``radius_m`` (they may be turned or see the
    way there), at most ``limit``. Rows as incidents store them (``camera_id``,
    ``distance_m``, ``bearing_deg``) plus ``sees``."""
    cams = list(cameras)
    seen = cameras_seeing(place, cams, projection)
    rows: list[dict[str, float | str | bool]] = [
        {
            "camera_id": v.camera_id,
            "distance_m": round(v.distance_m, 1),
            "bearing_deg": round(v.bearing_deg, 1),
            "sees": True,
        }
        for v in seen[:limit]
    ]
    taken = {v.camera_id for v in seen}
    px, py = projection.to_xy(place)
    others = []
    for cam in cams:
        if cam.id in taken:
            continue
        cx, cy = projection.to_xy(cam.position)
        dist = math.hypot(px - cx, py - cy)
        if dist <= radius_m:
            bearing = math.degrees(math.atan2(px - cx, py - cy)) % 360.0
            others.append((dist, cam.id, bearing))
    for dist, cam_id, bearing in sorted(others)[: max(0, limit - len(rows))]:
        rows.append(
            {
                "camera_id": cam_id,
                "distance_m": round(dist, 1),
                "bearing_deg": round(bearing, 1),
                "sees": False,
            }
        )
    return rows


@dataclass(frozen=True, slots=True)
class PersonsPolicy:
    """A municipality's ``persons:`` configuration (docs/CONFIG.md "persons")."""

    positions_hours: float = 24.0
    """How long a track's points are kept after receipt (docs/PRIVACY.md)."""
    police: str | None = None
    """The agency an episode is forwarded to as a share (origin ``sos``); None: the operator
    must pick it."""
    purpose: str | None = None
    """The share's purpose (one of the ``sharing:`` purposes)."""
    share_minutes: float = 120.0
    photo_max_bytes: int = 2_000_000


DEFAULT_PERSONS = PersonsPolicy()
