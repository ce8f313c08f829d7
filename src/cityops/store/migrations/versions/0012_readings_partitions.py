"""readings partitioned by time, daily rollups (issue 11)

On PostgreSQL ``readings`` becomes a table partitioned by RANGE (ts), one partition per UTC
month (docs/STORAGE.md); SQLite keeps its table. Hourly rollups are completed from the raw
readings and daily ones computed from them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 13:35:00
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from cityops.store import partitions_repo as parts
from cityops.store import rollups_repo
from cityops.store.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    "municipality varchar(64) NOT NULL, sensor_id varchar(64) NOT NULL, "
    "ts timestamp with time zone NOT NULL, value double precision NOT NULL"
)


def _aggregate(name: str, key: str) -> None:
    op.create_table(
        name,
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column(key, UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=False),
        sa.Column("max", sa.Float(), nullable=False),
        sa.Column("mean", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("municipality", "sensor_id", key, name=op.f(f"pk_{name}")),
    )


def _partition_readings(conn: sa.Connection) -> None:
    op.execute("ALTER TABLE readings RENAME TO readings_unpartitioned")
    op.execute(
        "ALTER TABLE readings_unpartitioned RENAME CONSTRAINT pk_readings TO pk_readings_old"
    )
    op.execute(
        f"CREATE TABLE readings ({_COLUMNS}, "
        "CONSTRAINT pk_readings PRIMARY KEY (municipality, sensor_id, ts)) PARTITION BY RANGE (ts)"
    )
    parts.create_default(conn)
    months = conn.execute(
        sa.text("SELECT DISTINCT date_trunc('month', ts, 'UTC') FROM readings_unpartitioned")
    ).scalars()
    parts.ensure(conn, [m.astimezone(UTC) for m in months])
    parts.ensure_ahead(conn, datetime.now(UTC))
    op.execute(
        "INSERT INTO readings SELECT municipality, sensor_id, ts, value FROM readings_unpartitioned"
    )
    op.execute("DROP TABLE readings_unpartitioned")


def _backfill(conn: sa.Connection) -> None:
    """Hourly rollups so far were written by retention for the hours it removed: those hours
    are final (the horizon is the hour after the last); later ones come from the raw readings."""
    readings, hourly = sa.table("readings", sa.column("municipality")), "reading_hourly"
    municipalities = conn.execute(sa.select(readings.c.municipality).distinct()).scalars().all()
    for m in municipalities:
        last = conn.execute(
            sa.text(f"SELECT max(hour) FROM {hourly} WHERE municipality = :m"), {"m": m}
        ).scalar_one_or_none()
        start = datetime(1970, 1, 1, tzinfo=UTC)
        if last is not None:
            start = rollups_repo.hour_of(last) + timedelta(hours=1)
            rollups_repo.set_horizon(conn, m, start)
        rollups_repo.rebuild_hourly(conn, m, None, start, datetime(9999, 1, 1, tzinfo=UTC))
    everyone = conn.execute(sa.text(f"SELECT DISTINCT municipality FROM {hourly}")).scalars().all()
    for m in everyone:
        rollups_repo.rebuild_daily(
            conn, m, None, datetime(1970, 1, 1, tzinfo=UTC), datetime(9999, 1, 1, tzinfo=UTC)
        )


def upgrade() -> None:
    _aggregate("reading_daily", "day")
    op.create_table(
        "reading_rollup_pending",
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("sensor_id", sa.String(length=64), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "municipality", "sensor_id", "hour", name=op.f("pk_reading_rollup_pending")
        ),
    )
    op.create_table(
        "reading_rollup_state",
        sa.Column("municipality", sa.String(length=64), nullable=False),
        sa.Column("raw_from", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("municipality", name=op.f("pk_reading_rollup_state")),
    )
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        _partition_readings(conn)
    _backfill(conn)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute(f"CREATE TABLE readings_plain ({_COLUMNS})")
        op.execute(
            "INSERT INTO readings_plain SELECT municipality, sensor_id, ts, value FROM readings"
        )
        op.execute("DROP TABLE readings")
        op.execute(f"DROP SCHEMA IF EXISTS {parts.SCHEMA} CASCADE")
        op.execute("ALTER TABLE readings_plain RENAME TO readings")
        op.execute(
            "ALTER TABLE readings ADD CONSTRAINT pk_readings "
            "PRIMARY KEY (municipality, sensor_id, ts)"
        )
    op.drop_table("reading_rollup_state")
    op.drop_table("reading_rollup_pending")
    op.drop_table("reading_daily")
