"""The shapes of the operators' share routes (``routes_shares.py``): what an operator sends to
make, extend or revoke a share, the share as it is shown (with its status now, and the
recipient's link once), and what may be shared."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from cityops.domain.shares import Share, ShareOrigin, ShareStatus
from cityops.services.shares import RADIUS_MAX_M

Minutes = Annotated[float, Field(gt=0, le=100 * 24 * 60, description="How long, in minutes")]


class ShareView(BaseModel):
    id: int
    incident_id: int | None
    agency: str
    purpose: str
    origin: ShareOrigin
    cameras: list[str]
    lon: float
    lat: float
    radius_m: float
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: ShareStatus

    @classmethod
    def of(cls, share: Share, now: datetime) -> ShareView:
        return cls(
            id=share.id,
            incident_id=share.incident_id,
            agency=share.agency,
            purpose=share.purpose,
            origin=share.origin,
            cameras=list(share.cameras),
            lon=share.place.lon,
            lat=share.place.lat,
            radius_m=share.radius_m,
            created_by=share.created_by,
            created_at=share.created_at,
            expires_at=share.expires_at,
            revoked_at=share.revoked_at,
            status=share.status(now),
        )


class NewShareView(ShareView):
    link: str = Field(description="The recipient's link; shown this once, never stored")


class IncidentShareBody(BaseModel):
    agency: str = Field(min_length=1, max_length=64)
    purpose: str = Field(min_length=1, max_length=64)
    minutes: Minutes | None = Field(default=None, description="Default: the configured one")
    radius_m: float | None = Field(default=None, gt=0, le=RADIUS_MAX_M)


class PlaceShareBody(IncidentShareBody):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)


class ExtendBody(BaseModel):
    minutes: Minutes


class RevokeBody(BaseModel):
    reason: str | None = Field(default=None, max_length=500)


class PurposeView(BaseModel):
    id: str
    label: str
    label_local: str | None


class AgencyView(BaseModel):
    id: str
    name: str
    name_local: str | None
    kind: str


class SharingView(BaseModel):
    purposes: list[PurposeView]
    default_minutes: float
    max_minutes: float
    radius_m: float
    max_radius_m: float
    agencies: list[AgencyView]
