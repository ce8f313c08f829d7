"""dispatch out: deliveries outbox and acknowledgments

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 11:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatch_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("agency", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", UTCDateTime(), nullable=False),
        sa.Column("last_error", sa.String(500)),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("reply_token_hash", sa.String(64)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_dispatch_deliveries"),
    )
    op.create_index("ix_dispatch_deliveries_due", "dispatch_deliveries", ["status", "next_at"])
    op.create_index(
        "ix_dispatch_deliveries_incident", "dispatch_deliveries", ["municipality", "incident_id"]
    )
    op.create_table(
        "dispatch_acks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(200)),
        sa.Column("note", sa.Text()),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_dispatch_acks"),
        sa.UniqueConstraint("signature", name="uq_dispatch_acks_signature"),
    )
    op.create_index("ix_dispatch_acks_delivery", "dispatch_acks", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_acks_delivery", table_name="dispatch_acks")
    op.drop_table("dispatch_acks")
    op.drop_index("ix_dispatch_deliveries_incident", table_name="dispatch_deliveries")
    op.drop_index("ix_dispatch_deliveries_due", table_name="dispatch_deliveries")
    op.drop_table("dispatch_deliveries")
