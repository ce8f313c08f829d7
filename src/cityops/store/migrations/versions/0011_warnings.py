"""received public warnings and CAP endpoint deliveries (issue 9)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "cap_received",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(300), nullable=False),
        sa.Column("identifier", sa.String(300), nullable=False),
        sa.Column("sent", UTCDateTime(), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.String(500), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("replaces", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("ended_by", sa.String(16)),
        sa.PrimaryKeyConstraint("id", name="pk_cap_received"),
    )
    op.create_index(
        "uq_cap_received_key",
        "cap_received",
        ["municipality", "sender", "identifier"],
        unique=True,
    )
    op.create_index("ix_cap_received_open", "cap_received", ["municipality", "ended_at"])
    op.create_table(
        "cap_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(200), nullable=False),
        sa.Column("msg_type", sa.String(16), nullable=False),
        sa.Column("endpoint", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("requested_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_cap_deliveries"),
    )
    op.create_index("ix_cap_deliveries_due", "cap_deliveries", ["status", "next_at"])
    op.create_index("ix_cap_deliveries_incident", "cap_deliveries", ["municipality", "incident_id"])


def downgrade() -> None:
    op.drop_index("ix_cap_deliveries_incident", table_name="cap_deliveries")
    op.drop_index("ix_cap_deliveries_due", table_name="cap_deliveries")
    op.drop_table("cap_deliveries")
    op.drop_index("ix_cap_received_open", table_name="cap_received")
    op.drop_index("uq_cap_received_key", table_name="cap_received")
    op.drop_table("cap_received")
