"""audit log with its hash chain and anchors, retention runs, hourly reading aggregates

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cityops.store.types import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# On PostgreSQL the audit tables refuse UPDATE, DELETE and TRUNCATE. The one exception is
# retention (services/retention.py), which deletes old records in a transaction that first runs
# SET LOCAL cityops.audit_retention = 'on' (docs/SECURITY.md, "Audit").
GUARD_FUNCTION = """
CREATE FUNCTION cityops_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('cityops.audit_retention', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
GUARDED = ("audit_log", "audit_anchors")


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("municipality", sa.String(length=64), nullable=True),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_muni_at", "audit_log", ["municipality", "at"])
    op.create_index("ix_audit_log_chain_at", "audit_log", ["chain", "at"])
    op.create_table(
        "audit_heads",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("base_seq", sa.Integer(), nullable=False),
        sa.Column("base_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_heads")),
    )
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_anchors")),
    )
    op.create_index("ix_audit_anchors_chain_seq", "audit_anchors", ["chain", "seq"])
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("removed", sa.JSON(), nullable=False),
        sa.Column("cutoffs", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
    )
    op.create_index("ix_retention_runs_muni_id", "retention_runs", ["municipality", "id"])
    op.create_table(
        "reading_hourly",
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "municipality", "sensor_id", "hour", name=op.f("pk_reading_hourly")
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD_FUNCTION)
        for table in GUARDED:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION cityops_audit_guard()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION cityops_audit_guard()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in GUARDED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS cityops_audit_guard()")
    op.drop_table("reading_hourly")
    op.drop_index("ix_retention_runs_muni_id", table_name="retention_runs")
    op.drop_table("retention_runs")
    op.drop_index("ix_audit_anchors_chain_seq", table_name="audit_anchors")
    op.drop_table("audit_anchors")
    op.drop_table("audit_heads")
    op.drop_index("ix_audit_log_chain_at", table_name="audit_log")
    op.drop_index("ix_audit_log_muni_at", table_name="audit_log")
    op.drop_table("audit_log")
