"""event evidence files (snapshots, clips)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("snapshot_path", sa.String(length=400), nullable=True),
        sa.Column("clip_path", sa.String(length=400), nullable=True),
        sa.Column("clip_start", UTCDateTime(), nullable=True),
        sa.Column("clip_end", UTCDateTime(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "event_id"),
    )
    op.create_index("ix_evidence_muni_ts", "evidence", ["municipality", "ts"])
    op.create_index("ix_evidence_muni_camera_ts", "evidence", ["municipality", "camera_id", "ts"])
    op.create_index("ix_evidence_clip", "evidence", ["clip_path"])


def downgrade() -> None:
    op.drop_index("ix_evidence_clip", table_name="evidence")
    op.drop_index("ix_evidence_muni_camera_ts", table_name="evidence")
    op.drop_index("ix_evidence_muni_ts", table_name="evidence")
    op.drop_table("evidence")
