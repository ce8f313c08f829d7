"""Incidents: their lifecycle as an enforced state machine, and the timeline of who did what."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cache

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
    HANDOVER = "handover"
    """Handed over to a neighbouring municipality (data: from, to), which then sees it."""
    DISPATCH = "dispatch"
    """A delivery to an agency's channel changed (data: delivery, channel, target, status:
    sent, retrying or failed, attempts); docs/DISPATCH.md."""
    DISPATCH_ACK = "dispatch_ack"
    """The agency acknowledged a delivery (data: delivery, agency, via, reference)."""
    SHARE = "share"
    """An agency share was created, extended, revoked or first opened (data: share, agency, op:
    created|extended|revoked|opened, expires_at); docs/AGENCIES.md "Shares"."""


class IncidentError(Exception):
    """An action on an incident that the rules of the lifecycle do not allow."""


class InvalidTransitionError(IncidentError):
    def __init__(self, current: Status, target: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "none"
        super().__init__(f"cannot move from {current} to {target} (allowed: {allowed})")
        self.current = current
        self.target = target


class IncidentAction(StrEnum):
    """What an operator may do to an incident; the value is the action's URL path segment.

    The definition order is the fixed order in which :func:`allowed_actions` lists them."""

    ACKNOWLEDGE = "acknowledge"
    ASSIGN = "assign"
    DISPATCH = "dispatch"
    ON_SCENE = "on-scene"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"
    CANCEL = "cancel"
    NOTE = "note"
    SOP = "sop"


MOVES: dict[IncidentAction, Status] = {
    IncidentAction.ACKNOWLEDGE: Status.ACKNOWLEDGED,
    IncidentAction.DISPATCH: Status.DISPATCHED,
    IncidentAction.ON_SCENE: Status.ON_SCENE,
    IncidentAction.RESOLVE: Status.RESOLVED,
    IncidentAction.CLOSE: Status.CLOSED,
    IncidentAction.REOPEN: Status.ACKNOWLEDGED,
    IncidentAction.CANCEL: Status.CANCELLED,
}
"""The actions that move an incident along its lifecycle, and the status each moves it to."""

ONLY_FROM: dict[IncidentAction, Status] = {
    IncidentAction.ACKNOWLEDGE: Status.NEW,
    IncidentAction.REOPEN: Status.RESOLVED,
}
"""Moves to the same status told apart by where they start: acknowledging is for a new incident,
reopening for a resolved one."""


WHILE_OPEN = {
    IncidentAction.ASSIGN: "assign an agency to",
    IncidentAction.SOP: "tick a procedure step of",
}
"""Actions for open incidents only (what each does, for the refusal)."""


def _move_refusal(status: Status, target: Status, agency: str | None) -> str | None:
    if target not in TRANSITIONS[status]:
        return str(InvalidTransitionError(status, target))
    if target is Status.DISPATCHED and not agency:
        return "assign an agency before dispatching"
    return None


def refusal(incident: Incident, action: IncidentAction) -> str | None:
    """Why ``action`` is not allowed on ``incident`` now; None when it is."""
    return _refusal(incident.status, incident.assigned_agency, action)


def _refusal(status: Status, agency: str | None, action: IncidentAction) -> str | None:
    target = MOVES.get(action)
    if target is not None:
        start = ONLY_FROM.get(action)
        if start is not None and status is not start:
            return f"{action} is only for a {start} incident (it is {status})"
        return _move_refusal(status, target, agency)
    if action in WHILE_OPEN and not status.is_open:
        return f"cannot {WHILE_OPEN[action]} a {status} incident"
    return None  # a note is always welcome, even on a closed incident


def allowed_actions(incident: Incident) -> list[IncidentAction]:
    """What may be done to ``incident`` now, in the fixed order of :class:`IncidentAction`."""
    return list(_allowed(incident.status, bool(incident.assigned_agency)))


@cache
def _allowed(status: Status, has_agency: bool) -> tuple[IncidentAction, ...]:
    """They depend on the status and whether an agency is assigned only: worked out once per
    pair (an incident list of hundreds asks for each incident's, issue 8)."""
    agency = "assigned" if has_agency else None
    return tuple(a for a in IncidentAction if _refusal(status, agency, a) is None)


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
        refused = _move_refusal(self.status, target, self.assigned_agency)
        if refused is not None:
            raise IncidentError(refused)
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

    def require(self, action: IncidentAction) -> None:
        """Raise IncidentError (with the reason) unless ``action`` is allowed now."""
        refused = refusal(self, action)
        if refused is not None:
            raise IncidentError(refused)

    def move(
        self, action: IncidentAction, *, actor: str, at: datetime, note: str | None = None
    ) -> TimelineEntry:
        """Perform a lifecycle action (acknowledge, dispatch, ..., cancel with its reason)."""
        if action not in MOVES:
            raise IncidentError(f"{action} does not move an incident along its lifecycle")
        self.require(action)
        return self.transition(MOVES[action], actor=actor, at=at, reason=note)

    def assign(
        self, agency_id: str, *, actor: str, at: datetime, note: str | None = None
    ) -> TimelineEntry:
        self.require(IncidentAction.ASSIGN)
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
