"""vulnerable people and their positions (issue 9)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("guardian_name", sa.String(200), nullable=False),
        sa.Column("guardian_phone", sa.String(40), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("safe_area", sa.JSON(), nullable=False),
        sa.Column("notes", sa.String(2000), nullable=False),
        sa.Column("photo", sa.String(100)),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
    )
    op.create_index("uq_persons_device", "persons", ["municipality", "device_id"], unique=True)
    op.create_table(
        "person_positions",
        sa.Column("id", sa.Integer(), autoincrement=True),
        sa.Column("municipality", sa.String(64), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("persons.id", name="fk_person_positions_person_id_persons"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ts", UTCDateTime(), nullable=False),
        sa.Column("lon", sa.Float()),
        sa.Column("lat", sa.Float()),
        sa.Column("accuracy_m", sa.Float()),
        sa.Column("battery", sa.Float()),
        sa.Column("inside", sa.Boolean()),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_person_positions"),
    )
    op.create_index(
        "ix_person_positions_person", "person_positions", ["municipality", "person_id", "ts"]
    )
    op.create_index("ix_person_positions_received", "person_positions", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_person_positions_received", table_name="person_positions")
    op.drop_index("ix_person_positions_person", table_name="person_positions")
    op.drop_table("person_positions")
    op.drop_index("uq_persons_device", table_name="persons")
    op.drop_table("persons")
