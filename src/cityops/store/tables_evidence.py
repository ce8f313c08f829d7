"""Tables for event evidence: snapshots and clips on disk (issue 7).

They live on the shared ``metadata`` of :mod:`cityops.store.tables`; that module imports this one at
its end so that Alembic and the schema tests see every table.

One row per camera event that has evidence: the paths (relative to the evidence root, checked
when recorded: ``domain.evidence``) of its snapshot and clip, and the clip's window. Several
events of one burst share a clip. No foreign key to ``events``: retention and erasure remove
evidence on their own schedule."""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

evidence = Table(
    "evidence",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("camera_id", String(64), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("ts", UTCDateTime(), nullable=False),
    Column("snapshot_path", String(400)),
    Column("clip_path", String(400)),
    Column("clip_start", UTCDateTime()),
    Column("clip_end", UTCDateTime()),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Index("ix_evidence_muni_ts", "municipality", "ts"),
    Index("ix_evidence_muni_camera_ts", "municipality", "camera_id", "ts"),
    Index("ix_evidence_clip", "clip_path"),
)
