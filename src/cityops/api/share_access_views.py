"""What a share's recipient is shown (api/routes_share_access.py): the share without who made
it, the incident's summary (no timeline, no notes), the shared cameras, and the agency's and
purpose's names."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy import Engine

from cityops.api.routes_shares import ShareView
from cityops.domain.shares import Share
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import incidents_repo


class TokenBody(BaseModel):
    token: str | None = Field(default=None, max_length=200, description="The link's fragment")


class RecipientShareView(BaseModel):
    id: int
    incident_id: int | None
    agency: str
    purpose: str
    origin: str
    cameras: list[str]
    lon: float
    lat: float
    radius_m: float
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    status: str


class SharedIncident(BaseModel):
    title: str
    title_local: str | None
    type: str
    severity: str
    status: str
    lon: float | None
    lat: float | None
    created_at: datetime


class SharedCamera(BaseModel):
    id: str
    name: str
    name_local: str | None
    lon: float
    lat: float
    heading: float
    fov: float
    range_m: float


class AccessView(BaseModel):
    share: RecipientShareView
    incident: SharedIncident | None
    cameras: list[SharedCamera]
    expires_at: datetime
    agency_name: str
    agency_name_local: str | None
    purpose_label: str
    purpose_label_local: str | None


class AccessStatus(BaseModel):
    """What a recipient's page polls (not audited: it shows no picture nor incident)."""

    status: str
    expires_at: datetime
    cameras: list[str]


def access_view(db: Engine, share: Share, rt: MunicipalityRuntime, now: datetime) -> AccessView:
    """What the recipient of ``share`` sees: the share, its incident's summary, its cameras."""
    public = ShareView.of(share, now).model_dump(exclude={"created_by"})
    incident = None
    if share.incident_id is not None:
        with db.connect() as conn:
            found = incidents_repo.get_incident(
                conn, share.municipality, share.incident_id, with_timeline=False
            )
        if found is not None:
            i = found.incident
            incident = SharedIncident(
                title=i.title,
                title_local=i.title_local,
                type=i.type,
                severity=str(i.severity),
                status=str(i.status),
                lon=i.location.lon if i.location else None,
                lat=i.location.lat if i.location else None,
                created_at=i.created_at,
            )
    cameras = [
        SharedCamera(
            id=c.id,
            name=c.name,
            name_local=c.name_local,
            lon=c.position.lon,
            lat=c.position.lat,
            heading=c.heading_deg,
            fov=c.fov_deg,
            range_m=c.range_m,
        )
        for cid in share.cameras
        if (c := rt.cameras.get(cid)) is not None
    ]
    agency = next((a for a in rt.config.agencies if a.id == share.agency), None)
    purpose = rt.config.sharing.purpose(share.purpose)
    return AccessView(
        share=RecipientShareView(**public),
        incident=incident,
        cameras=cameras,
        expires_at=share.expires_at,
        agency_name=agency.name if agency else share.agency,
        agency_name_local=agency.name_local if agency else None,
        purpose_label=purpose.label if purpose else share.purpose,
        purpose_label_local=purpose.label_local if purpose else None,
    )
