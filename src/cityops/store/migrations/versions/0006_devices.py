"""device credentials for MQTT

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "device_credentials",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(140), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("municipality", sa.String(64)),
        sa.Column("devices", sa.JSON(), nullable=False),
        sa.Column("prefix", sa.String(200)),
        sa.Column("secret_hash", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_device_credentials"),
        sa.UniqueConstraint("username", name="uq_device_credentials_username"),
    )
    op.create_index("ix_device_credentials_municipality", "device_credentials", ["municipality"])


def downgrade() -> None:
    op.drop_index("ix_device_credentials_municipality", table_name="device_credentials")
    op.drop_table("device_credentials")
