"""Tables for dispatch out (issue 9): the outbox of deliveries and the agencies' acknowledgments.

A delivery row is written in the transaction that dispatches the incident, so a crash or a
restart cannot lose it; the dispatch worker (``cityops.dispatch.worker``) works the rows whose
``next_at`` has come. ``payload`` is the message as it was at dispatch time (what was sent is
what the agency saw). An acknowledgment's ``signature`` is unique: the same signed callback
twice is a replay."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

dispatch_deliveries = Table(
    "dispatch_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("agency", String(64), nullable=False),
    Column("channel", String(16), nullable=False),  # domain.dispatch.Channel
    Column("target", String(500), nullable=False),  # URL or e-mail address
    Column("status", String(16), nullable=False),  # domain.dispatch.DeliveryStatus
    Column("attempts", Integer, nullable=False),
    Column("next_at", UTCDateTime(), nullable=False),
    Column("last_error", String(500)),
    Column("payload", JSON, nullable=False),
    Column("reply_token_hash", String(64)),  # SHA-256 of the e-mail reply link's token
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Column("acknowledged_at", UTCDateTime()),
    Index("ix_dispatch_deliveries_due", "status", "next_at"),
    Index("ix_dispatch_deliveries_incident", "municipality", "incident_id"),
)

dispatch_acks = Table(
    "dispatch_acks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_id", Integer, nullable=False),
    Column("municipality", String(64), nullable=False),
    Column("signature", String(128), nullable=False, unique=True),
    Column("via", String(16), nullable=False),  # webhook | link
    Column("reference", String(200)),
    Column("note", Text),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_dispatch_acks_delivery", "delivery_id"),
)
