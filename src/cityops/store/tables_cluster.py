"""Multi-process ingest (docs/SCALING.md): the members alive and who holds which partition.

``ingest_members``: one row per running ``cityops ingest`` process, its heartbeat (the
database's clock). ``ingest_partitions``: one row per municipality (the unit of partitioning):
its owner, the epoch every claim increments, and until when the owner's lease runs. A batch is
written only while its process owns every municipality of the batch with the epoch it
claimed (the fence, checked in the batch's transaction).

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Integer, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

ingest_members = Table(
    "ingest_members",
    metadata,
    Column("member_id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
)

ingest_partitions = Table(
    "ingest_partitions",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("owner", String(128)),
    Column("epoch", BigInteger, nullable=False),
    Column("lease_until", UTCDateTime()),
    Column("session_error", String(200)),
    # why the broker refused the owner's session login (shown by /health); NULL when fine
)
