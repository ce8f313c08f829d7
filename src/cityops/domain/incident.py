"""Incidents: their lifecycle as an enforced state machine, and the timeline of who did what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from cityops.domain.entities import LonLat, Sector, Severity


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    DISPATCHED = "dispatched"
    ON_SCENE = "on_scene"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def is_open(self) -> bool:
        return self not in CLOSED_STATUSES


CLOSED_STATUSES = frozenset({Status.RESOLVED, Status.CLOSED, Status.CANCELLED})
"""Statuses in which an incident no longer takes new triggers: a new trigger opens a new one."""

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ACKNOWLEDGED, Status.CANCELLED}),
    Status.ACKNOWLEDGED: frozenset({Status.DISPATCHED, Status.RESOLVED, Status.CANCELLED}),
    Status.DISPATCHED: frozenset({Status.ON_SCENE, Status.RESOLVED, Status.CANCELLED}),
    Status.ON_SCENE: frozenset({Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.ACKNOWLEDGED}),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}
"""Allowed moves. resolved -> acknowledged reopens an incident that was resolved too early."""

REASON_REQUIRED = frozenset({Status.CANCELLED})
"""Moves that must say why (a false alarm is cancelled with its reason)."""


class TimelineKind(StrEnum):
    CREATED = "created"
    STATUS = "status"
    TRIGGER = "trigger"
    CLEARED = "cleared"
    ASSIGNED = "assigned"
    NOTE = "note"
    SOP_STEP = "sop_step"
    EVENT_LINKED = "event_linked"
    DISPATCH_SENT = "dispatch_sent"


class IncidentError(Exception):
    """An action on an incident that the rules of the lifecycle do not allow."""


class InvalidTransitionError(IncidentError):
    def __init__(self, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(f"cannot move from {current} to {target} (allowed: {allowed})")
        self.current = current
        self.target = target


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: datetime
    kind: TimelineKind
    actor: str
    text: str
    from_status: Status | None = None
    to_status: Status | None = None
    data: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Incident:
    """An incident as the domain sees it; ``id`` is None until it is stored."""

    municipality: str
    type: str
    sector: Sector
    severity: Severity
    title: str
    created_at: datetime
    location: LonLat | None = None
    status: Status = Status.NEW
    id: int | None = None
    rule_id: str | None = None
    dedup_key: str | None = None
    proposed_agency: str | None = None
    assigned_agency: str | None = None
    updated_at: datetime | None = None
    title_local: str | None = None
    timeline: list[TimelineEntry] = field(default_factory=list)

    def transition(
        self, target: Status, *, actor: str, at: datetime, reason: str | None = None
    ) -> TimelineEntry:
        """Move to ``target`` or raise; returns the timeline entry that records the move."""
        if target not in TRANSITIONS[self.status]:
            raise InvalidTransitionError(self.status, target)
        if target in REASON_REQUIRED and not (reason and reason.strip()):
            raise IncidentError(f"moving to {target} requires a reason")
        if target is Status.DISPATCHED and not self.assigned_agency:
            raise IncidentError("assign an agency before dispatching")
        entry = TimelineEntry(
            at=at,
            kind=TimelineKind.STATUS,
            actor=actor,
            text=reason.strip() if reason else f"{self.status} -> {target}",
            from_status=self.status,
            to_status=target,
        )
        self.status = target
        self.updated_at = at
        self.timeline.append(entry)
        return entry

    def assign(
        self, agency_id: str, *, actor: str, at: datetime, note: str | None = None
    ) -> TimelineEntry:
        if not self.status.is_open:
            raise IncidentError(f"cannot assign an agency to a {self.status} incident")
        entry = TimelineEntry(
            at=at,
            kind=TimelineKind.ASSIGNED,
            actor=actor,
            text=note or f"assigned to {agency_id}",
            data={"agency": agency_id, "previous": self.assigned_agency or ""},
        )
        self.assigned_agency = agency_id
        self.updated_at = at
        self.timeline.append(entry)
        return entry

    def add_entry(self, entry: TimelineEntry) -> TimelineEntry:
        self.updated_at = entry.at
        self.timeline.append(entry)
        return entry
