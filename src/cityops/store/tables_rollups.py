"""Rollups of readings (issue 11): daily aggregates beside the hourly ones of
:mod:`cityops.store.tables_audit`, the hours ingest has touched since they were last summed up,
and how far back the raw readings are complete (docs/STORAGE.md).

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

# One row per sensor and UTC day, always summed up from reading_hourly.
reading_daily = Table(
    "reading_daily",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("sensor_id", String(64), primary_key=True),
    Column("day", UTCDateTime(), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("mean", Float, nullable=False),
)

# The (sensor, UTC hour) pairs that received readings since their rollups were last computed:
# written by ingest in the transaction that stores the readings, taken by the rollup job.
reading_rollup_pending = Table(
    "reading_rollup_pending",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("sensor_id", String(64), primary_key=True),
    Column("hour", UTCDateTime(), primary_key=True),
)

# Per municipality ("*": the whole installation, moved by dropping partitions on PostgreSQL):
# raw readings are complete from ``raw_from`` on. Hourly rollups of later hours are recomputed
# from the raw readings; those of earlier hours are final, and a raw reading older than
# ``raw_from`` (a late one) is merged into them by retention, then removed.
reading_rollup_state = Table(
    "reading_rollup_state",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("raw_from", UTCDateTime(), nullable=False),
)
