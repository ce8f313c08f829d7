"""a partition's refused session login, for /health (issue 11)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 00:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("ingest_partitions") as batch:
        batch.add_column(sa.Column("session_error", sa.String(200)))


def downgrade() -> None:
    with op.batch_alter_table("ingest_partitions") as batch:
        batch.drop_column("session_error")
