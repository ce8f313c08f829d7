"""agency shares (issue 9)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shares",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.Integer()),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("radius_m", sa.Float(), nullable=False),
        sa.Column("cameras", sa.JSON(), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by", sa.String(200)),
        sa.Column("revoke_reason", sa.String(500)),
        sa.Column("opened_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_shares"),
        sa.UniqueConstraint("token_hash", name="uq_shares_token_hash"),
    )
    op.create_index("ix_shares_incident", "shares", ["municipality", "incident_id"])
    op.create_index("ix_shares_agency", "shares", ["municipality", "agency", "expires_at"])


def downgrade() -> None:
    op.drop_index("ix_shares_agency", table_name="shares")
    op.drop_index("ix_shares_incident", table_name="shares")
    op.drop_table("shares")
