"""leases of multi-process ingest: members and partitions (issue 11)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ingest_members",
        sa.Column("member_id", sa.String(128), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("heartbeat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("member_id", name="pk_ingest_members"),
    )
    op.create_table(
        "ingest_partitions",
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(128)),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", UTCDateTime()),
        sa.PrimaryKeyConstraint("municipality", name="pk_ingest_partitions"),
    )


def downgrade() -> None:
    op.drop_table("ingest_partitions")
    op.drop_table("ingest_members")
