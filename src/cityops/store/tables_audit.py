"""Tables for the hash-chained audit log, its anchors, retention runs, reading aggregates (#8).

They live on the shared ``metadata`` of :mod:`cityops.store.tables`; that module imports this one at
its end so that Alembic and the schema tests see every table."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, Index, Integer, String, Table, Text

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

# One chain per municipality ("" for the installation's own records); (chain, seq) is the order
# of writing. No foreign key to municipalities: the log outlives what it speaks of.
audit_log = Table(
    "audit_log",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(64), nullable=False),
    Column("municipality", String(64)),
    Column("target", String(300)),
    Column("reason", Text),
    Column("detail", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_muni_at", "municipality", "at"),
    Index("ix_audit_log_chain_at", "chain", "at"),
)

# A chain's head (its last seq and hash) and base (the last record retention removed). Writers
# lock the head row: that serialises them per chain on PostgreSQL as on SQLite.
audit_heads = Table(
    "audit_heads",
    metadata,
    Column("chain", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("base_seq", Integer, nullable=False),
    Column("base_hash", String(64), nullable=False),
)

audit_anchors = Table(
    "audit_anchors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("chain", String(64), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("source", String(32), nullable=False),
    Index("ix_audit_anchors_chain_seq", "chain", "seq"),
)

retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("ok", Boolean, nullable=False),
    Column("removed", JSON, nullable=False),
    Column("cutoffs", JSON, nullable=False),
    Column("error", Text),
    Index("ix_retention_runs_muni_id", "municipality", "id"),
)

# Raw readings older than their retention become one row per sensor and hour.
reading_hourly = Table(
    "reading_hourly",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("sensor_id", String(64), primary_key=True),
    Column("hour", UTCDateTime(), primary_key=True),
    Column("count", Integer, nullable=False),
    Column("min", Float, nullable=False),
    Column("max", Float, nullable=False),
    Column("mean", Float, nullable=False),
)
