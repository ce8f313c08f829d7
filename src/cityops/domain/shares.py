"""Agency shares (issue 9 item 2): a time-limited view of some cameras given to an agency.

A share is an incident or a point, a radius, the cameras that see it, a recipient agency, a
purpose from the municipality's configured list, and an expiry. The recipient holds a link whose
token is the credential (only its SHA-256 digest is stored), or a liaison account of the agency.
Expiry and revocation are decided here, from the clock the caller passes (docs/AGENCIES.md
"Shares")."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from cityops.domain.agency_requests import AgencyRequests
from cityops.domain.entities import LonLat

ShareStatus = Literal["active", "expired", "revoked"]

TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
"""``secrets.token_urlsafe(32)``: 43 characters of the URL-safe base64 alphabet, no padding."""


class ShareOrigin(StrEnum):
    OPERATOR = "operator"  # an operator shared from the console
    AUTO = "auto"  # an auto rule of the ``sharing:`` configuration, when the incident opened
    REQUEST = "request"  # an agency system's location request (services/agency_requests.py)
    SOS = "sos"  # a vulnerable person's SOS forwarded to police (services/persons.py)


class ShareError(Exception):
    """A share that cannot be made or changed as asked; ``reason`` is shown to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Share:
    id: int
    municipality: str
    incident_id: int | None
    place: LonLat
    radius_m: float
    cameras: tuple[str, ...]
    agency: str
    purpose: str
    origin: ShareOrigin
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    opened_at: datetime | None = None
    """When a recipient first opened it through its link (None: never)."""

    def status(self, now: datetime) -> ShareStatus:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if now < self.expires_at else "expired"

    def is_active(self, now: datetime) -> bool:
        return self.status(now) == "active"

    def shows(self, camera_id: str, now: datetime) -> bool:
        """Whether the share, at ``now``, gives a view of ``camera_id``."""
        return self.is_active(now) and camera_id in self.cameras

    @property
    def actor(self) -> str:
        """Who a recipient's view is audited as: ``share:<id>:<agency>``."""
        return f"share:{self.id}:{self.agency}"


@dataclass(frozen=True, slots=True)
class NewShare:
    share: Share
    token: str
    """The link's credential, shown once; only its digest is stored."""
    url: str
    """``<public_url>/share.html#<token>``: the fragment never reaches a server's logs."""


@dataclass(frozen=True, slots=True)
class Purpose:
    id: str
    label: str
    label_local: str | None = None


@dataclass(frozen=True, slots=True)
class AutoShare:
    """Share every newly opened incident of ``incident_type`` with ``agency`` for ``minutes``."""

    incident_type: str
    agency: str
    purpose: str
    minutes: float


@dataclass(frozen=True, slots=True)
class SharingPolicy:
    """A municipality's ``sharing:`` section (docs/CONFIG.md "sharing")."""

    purposes: tuple[Purpose, ...] = (
        Purpose("emergency", "Emergency response", "Реагиране при спешен случай"),
    )
    default_minutes: float = 60.0
    max_minutes: float = 24 * 60.0
    radius_m: float = 150.0
    auto: tuple[AutoShare, ...] = field(default=())
    requests: AgencyRequests | None = None
    """Location requests from agency systems (domain/agency_requests.py); None: none taken."""

    def purpose(self, purpose_id: str) -> Purpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)

    def auto_for(self, incident_type: str) -> tuple[AutoShare, ...]:
        return tuple(a for a in self.auto if a.incident_type == incident_type)


DEFAULT_POLICY = SharingPolicy()
"""Used when a municipality's configuration has no ``sharing:`` section."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> str:
    """The stored form of a token: its SHA-256, lowercase hex."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def parse_token(raw: object) -> str | None:
    """``raw`` (a JSON field, a cookie) if it has the exact shape of a share token; else None.

    Anything else (another type, padding, whitespace, another length, non-ASCII) is refused
    before the database is asked."""
    if not isinstance(raw, str) or not TOKEN_PATTERN.fullmatch(raw):
        return None
    return raw


def share_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/share.html#{token}"
