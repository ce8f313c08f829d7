"""What a principal may see inside a municipality: the data-level half of authorization.

The role decides *which kinds* of thing (api/auth.allow); this module decides *which ones*:
an incident is seen from its own municipality and from those it was handed over to; a liaison
sees only the incidents assigned to its agency in its municipality, and only the cameras
linked to the open ones among them, or shared with its agency by a share active now
(services/shares.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection

from cityops.domain.access import Permission, Principal
from cityops.services.live import LiveKind, LiveMessage
from cityops.services.views import IncidentSummary
from cityops.store import handovers_repo, shares_repo


def incident_home(
    conn: Connection, caller: Principal, mid: str, incident_id: int, now: datetime
) -> str | None:
    """The incident's own municipality if ``caller`` may see it from ``mid``; else None."""
    found = handovers_repo.owner(conn, incident_id)
    if found is None:
        return None
    home, assigned = found
    if caller.limited(mid, now):
        agency = caller.agency_scope(mid, now)
        return home if home == mid and agency is not None and assigned == agency else None
    if home == mid:
        return home
    return home if mid in handovers_repo.handed_to(conn, incident_id) else None


def visible_cameras(
    conn: Connection, caller: Principal, mid: str, now: datetime
) -> set[str] | None:
    """The cameras of ``mid`` the caller may see: None means all of them (not limited)."""
    if not caller.limited(mid, now):
        return None
    agency = caller.agency_scope(mid, now)
    if agency is None:
        return set()
    # its agency's open incidents' cameras, and those of the shares with it active now
    return handovers_repo.agency_cameras(conn, mid, agency) | shares_repo.active_cameras(
        conn, mid, agency, now
    )


_PER_CAMERA = frozenset({LiveKind.CAMERA, LiveKind.DETECTIONS})
_ALWAYS = frozenset({LiveKind.HELLO, LiveKind.RESYNC})


@dataclass
class LiveScope:
    """Which live messages of the bus one SSE connection of one principal may receive."""

    municipality: str
    agency: str | None
    """A liaison's agency: only its incidents, no sensors, only its cameras."""
    limited: bool
    shared: set[int] = field(default_factory=set)
    """Incidents handed over to this municipality (their messages carry the neighbour's id)."""
    cameras: set[str] | None = None
    until: datetime | None = None
    """When the membership ends: nothing is admitted from then on."""
    persons: bool = False
    """Whether vulnerable people's tracks (live kind ``person``) are admitted: persons.view."""

    @classmethod
    def of(cls, conn: Connection, caller: Principal, mid: str, now: datetime) -> LiveScope:
        return cls(
            municipality=mid,
            agency=caller.agency_scope(mid, now),
            limited=caller.limited(mid, now),
            shared=handovers_repo.shared_with(conn, mid),
            cameras=visible_cameras(conn, caller, mid, now),
            until=m.expires_at if (m := caller.membership(mid, now)) is not None else now,
            persons=caller.can(mid, Permission.PERSONS_VIEW, now),
        )

    def admits(self, message: LiveMessage) -> bool:
        if message.kind is LiveKind.INCIDENT:
            payload = message.payload
            assert isinstance(payload, IncidentSummary)
            if (
                message.municipality == self.municipality
                and payload.municipality != self.municipality
            ):
                self.shared.add(payload.id)  # a hand-over to us, told to our feed
            if self.limited:
                return (
                    message.municipality == self.municipality
                    and payload.municipality == self.municipality
                    and self.agency is not None
                    and payload.assigned_agency == self.agency
                )
            return message.municipality == self.municipality or (
                payload.id in self.shared and payload.municipality == message.municipality
            )
        if message.municipality != self.municipality:
            return False
        if message.kind is LiveKind.PERSON:  # a person's track: persons.view only
            return self.persons
        if not self.limited:
            return True
        if message.kind in _PER_CAMERA:  # a liaison: only its incidents' cameras
            return self.cameras is not None and getattr(message.payload, "id", None) in self.cameras
        return message.kind in _ALWAYS  # no sensors, nor any kind added later unless listed here
