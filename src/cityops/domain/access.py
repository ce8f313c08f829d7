"""Who may do what: roles per municipality, the permissions they grant, and the principal
(an authenticated account with its memberships) that the API checks.

Pure logic: the API (``api/auth.py``) builds a :class:`Principal` for each request and asks
:meth:`Principal.can`; nothing here knows about HTTP or the database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    LIAISON = "liaison"
    ANALYST = "analyst"
    AUDITOR = "auditor"


class Permission(StrEnum):
    INCIDENTS_READ = "incidents.read"
    INCIDENTS_ACT = "incidents.act"
    INCIDENTS_NOTE = "incidents.note"
    INCIDENTS_HANDOVER = "incidents.handover"
    SOURCES_READ = "sources.read"
    VIDEO_VIEW = "video.view"
    VIDEO_UNMASKED = "video.unmasked"
    """Never granted by a role: the membership's ``unmasked_video`` flag (with ``video.view``)."""
    INGEST_WRITE = "ingest.write"
    DEAD_LETTERS_READ = "dead_letters.read"
    SYSTEM_READ = "system.read"
    AUDIT_READ = "audit.read"
    USERS_MANAGE = "users.manage"
    DEVICES_MANAGE = "devices.manage"
    RETENTION_MANAGE = "retention.manage"
    PRIVACY_ERASE = "privacy.erase"
    WARNINGS_PUBLISH = "warnings.publish"
    """Publish a public warning (CAP) from an incident (issue 9, docs/CAP.md)."""
    SHARES_MANAGE = "shares.manage"
    """Share an incident's or a place's cameras with an agency; extend or revoke a share."""
    AGENCY_REQUEST = "agency.request"
    """An agency's system (or liaison) asks for the cameras at a location (issue 9)."""
    PERSONS_MANAGE = "persons.manage"
    """Register, change or remove the vulnerable people followed for SOS (issue 9)."""
    PERSONS_VIEW = "persons.view"
    """See a vulnerable person's photo and guardian contact (audited)."""


P = Permission
_OPERATING = frozenset(
    {
        P.INCIDENTS_READ,
        P.INCIDENTS_ACT,
        P.INCIDENTS_NOTE,
        P.SOURCES_READ,
        P.VIDEO_VIEW,
        P.SHARES_MANAGE,
        P.PERSONS_VIEW,
    }
)

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.ADMIN: _OPERATING
    | {
        P.INCIDENTS_HANDOVER,
        P.INGEST_WRITE,
        P.DEAD_LETTERS_READ,
        P.SYSTEM_READ,
        P.AUDIT_READ,
        P.USERS_MANAGE,
        P.DEVICES_MANAGE,
        P.RETENTION_MANAGE,
        P.PRIVACY_ERASE,
        P.WARNINGS_PUBLISH,
        P.PERSONS_MANAGE,
    },
    Role.SUPERVISOR: _OPERATING
    | {P.INCIDENTS_HANDOVER, P.INGEST_WRITE, P.DEAD_LETTERS_READ, P.SYSTEM_READ}
    | {P.WARNINGS_PUBLISH, P.PERSONS_MANAGE},
    Role.OPERATOR: _OPERATING | {P.SYSTEM_READ},
    # data-scoped: only incidents assigned to its agency and the cameras linked to them
    # an agency's system posts location requests with a liaison's token (issue 9)
    Role.LIAISON: frozenset(
        {P.INCIDENTS_READ, P.INCIDENTS_NOTE, P.SOURCES_READ, P.VIDEO_VIEW, P.AGENCY_REQUEST}
    ),
    Role.ANALYST: frozenset({P.INCIDENTS_READ, P.SOURCES_READ, P.SYSTEM_READ}),
    Role.AUDITOR: frozenset({P.AUDIT_READ}),
}
"""What each role may do in the municipality of its membership. ``video.unmasked`` is in none."""

INSTALLATION_PERMISSIONS = frozenset(
    {P.SYSTEM_READ, P.DEAD_LETTERS_READ, P.USERS_MANAGE, P.DEVICES_MANAGE, P.AUDIT_READ}
)
"""What an installation admin may do on installation-wide routes (routes without a
municipality). An installation admin gets nothing inside a municipality without a membership
there: municipalities stay apart even from the people who run the server."""


@dataclass(frozen=True)
class Membership:
    municipality: str
    role: Role
    agency: str | None
    expires_at: datetime | None
    unmasked_video: bool

    def active(self, now: datetime) -> bool:
        return self.expires_at is None or now < self.expires_at

    def permissions(self) -> frozenset[Permission]:
        granted = ROLE_PERMISSIONS[self.role]
        if self.unmasked_video and P.VIDEO_VIEW in granted:
            return granted | {P.VIDEO_UNMASKED}
        return granted


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    memberships: Mapping[str, Membership]
    installation_admin: bool
    via: str
    """How the request was authenticated: ``session``, ``token`` or ``oidc``."""

    def membership(self, municipality: str, now: datetime) -> Membership | None:
        """The membership in ``municipality`` if it exists and has not expired."""
        m = self.memberships.get(municipality)
        return m if m is not None and m.active(now) else None

    def can(self, municipality: str, permission: Permission, now: datetime) -> bool:
        m = self.membership(municipality, now)
        return m is not None and permission in m.permissions()

    def can_installation(self, permission: Permission) -> bool:
        """An installation-wide permission (routes without a municipality)."""
        return self.installation_admin and permission in INSTALLATION_PERMISSIONS

    def agency_scope(self, municipality: str, now: datetime) -> str | None:
        """The agency a liaison is limited to (None: not limited, or no membership)."""
        m = self.membership(municipality, now)
        return m.agency if m is not None and m.role is Role.LIAISON else None

    def limited(self, municipality: str, now: datetime) -> bool:
        """Whether what this principal sees in ``municipality`` is limited to its agency."""
        m = self.membership(municipality, now)
        return m is not None and m.role is Role.LIAISON

    def municipalities(self, now: datetime) -> list[str]:
        return sorted(k for k, m in self.memberships.items() if m.active(now))
