"""Agency shares of live video (issue 9 item 2; domain/shares.py, docs/AGENCIES.md "Shares").

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end). A share's link
token is stored only as its SHA-256 digest (``token_hash``, unique); ``cameras`` is the list of
camera ids fixed when the share was made; ``opened_at`` is the first open through the link."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

shares = Table(
    "shares",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("incident_id", Integer),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("radius_m", Float, nullable=False),
    Column("cameras", JSON, nullable=False),
    Column("agency", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("origin", String(16), nullable=False),  # domain.shares.ShareOrigin
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Column("revoked_by", String(200)),
    Column("revoke_reason", String(500)),
    Column("opened_at", UTCDateTime()),
    Index("ix_shares_incident", "municipality", "incident_id"),
    Index("ix_shares_agency", "municipality", "agency", "expires_at"),
)
