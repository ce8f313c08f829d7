"""The alerts in force for one municipality: new alerts that touch it open, updates replace
what they reference, cancellations and expiry close (CAP 1.2 §3.2.1 ``msgType``,
``references``; §3.2.2 ``expires``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from cityops.cap.area import Jurisdiction, position_in, touching_areas
from cityops.cap.model import Alert
from cityops.domain.entities import LonLat

Key = tuple[str, str]  # (sender, identifier)
MAX_SEEN = 100_000
"""Messages remembered as applied (a repeat is ignored); beyond this the oldest are forgotten,
so months of feeds cannot grow the book without bound."""


class Change(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    LEFT = "left"  # an update moved the area away from the municipality


@dataclass(frozen=True)
class Warning:
    """An alert in force here, at ``position`` on the map; ``replaces`` what it updated."""

    alert: Alert
    position: LonLat
    replaces: tuple[Key, ...] = ()
    signature: str = "absent"
    """The alert's XML signature as checked: valid (with its signer), invalid (why) or absent."""


@dataclass(frozen=True)
class Outcome:
    change: Change
    key: Key
    warning: Warning


class AlertBook:
    def __init__(self, where: Jurisdiction) -> None:
        self.where = where
        self._active: dict[Key, Warning] = {}
        self._seen: dict[Key, None] = {}  # insertion-ordered: the oldest are forgotten first

    @property
    def active(self) -> dict[Key, Warning]:
        return dict(self._active)

    def restore(self, warnings: Iterable[Warning], seen: Iterable[Key]) -> None:
        """Put back what was in force and what was seen (a restart: the stored warnings)."""
        for key in seen:
            self._seen[key] = None
        for warning in warnings:
            self._seen[warning.alert.key] = None
            self._active[warning.alert.key] = warning
        while len(self._seen) > MAX_SEEN:
            del self._seen[next(iter(self._seen))]

    def apply(self, alert: Alert, now: datetime, signature: str = "absent") -> list[Outcome]:
        """What ``alert`` changes here (``[]`` when nothing: elsewhere, a repeat, a test
        message, already expired)."""
        if alert.key in self._seen or alert.status not in {"Actual", "Exercise"}:
            return []
        self._seen[alert.key] = None
        while len(self._seen) > MAX_SEEN:
            del self._seen[next(iter(self._seen))]
        referenced = [
            k for r in alert.references if (k := (r.sender, r.identifier)) in self._active
        ]
        if alert.msg_type == "Cancel":
            return [Outcome(Change.CANCELLED, k, self._active.pop(k)) for k in referenced]
        if alert.msg_type not in {"Alert", "Update"}:
            return []
        ends = alert.expires()
        areas = touching_areas(alert, self.where)
        if not areas or (ends is not None and ends <= now):
            return [Outcome(Change.LEFT, k, self._active.pop(k)) for k in referenced]
        for k in referenced:
            self._active.pop(k)
        warning = Warning(alert, position_in(areas, self.where), tuple(referenced), signature)
        self._active[alert.key] = warning
        return [Outcome(Change.UPDATED if referenced else Change.OPENED, alert.key, warning)]

    def expire(self, now: datetime) -> list[Outcome]:
        """Close every warning whose last info block expired by ``now``."""
        gone = [
            k for k, w in self._active.items() if (e := w.alert.expires()) is not None and e <= now
        ]
        return [Outcome(Change.EXPIRED, k, self._active.pop(k)) for k in gone]
