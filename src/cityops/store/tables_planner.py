"""Stored camera network plans (issue 10, docs/PLANNER.md "Console").

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end). A plan is kept
as the GeoJSON ``cityops plan`` wrote (``planner/geojson.py``) with a few summary columns for
listing; plans are never changed, a new run is a new row."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

plans = Table(
    "plans",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # no foreign key: a plan may be made for a municipality before its configuration is imported
    Column("municipality", String(64), nullable=False),
    Column("name", String(200), nullable=False),
    Column("budget", Float, nullable=False),
    Column("cost", Float, nullable=False),
    Column("cameras", Integer, nullable=False),
    Column("coverage", Float, nullable=False),  # share of the weighted demand, 0..1
    Column("gap", Float, nullable=False),
    Column("geojson", Text, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_plans_muni_created", "municipality", "created_at"),
)
