"""Received public warnings (CAP) kept across restarts; CAP out deliveries (issue 9).

``cap_received``: one row per CAP message that was in force in a municipality (opened or
updated a warning there), with its XML as received, where the map shows it, what it replaced
and the signature verdict; ``ended_at``/``ended_by`` once it was cancelled, expired, left or
was replaced. At start the book of warnings in force is rebuilt from the rows not ended, and
every row's (sender, identifier) counts as seen, so a repeat after a restart is ignored.

``cap_deliveries``: the outbox of CityOps's own CAP messages to the configured endpoints
(``public_warnings.endpoints``), worked by ``cityops.dispatch.cap_out``.

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, LargeBinary, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

cap_received = Table(
    "cap_received",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("sender", String(300), nullable=False),
    Column("identifier", String(300), nullable=False),
    Column("sent", UTCDateTime(), nullable=False),
    Column("xml", LargeBinary, nullable=False),
    Column("signature", String(500), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("replaces", JSON, nullable=False),  # [[sender, identifier], ...]
    Column("received_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Column("ended_by", String(16)),  # cancelled | expired | left | replaced
    Index("uq_cap_received_key", "municipality", "sender", "identifier", unique=True),
    Index("ix_cap_received_open", "municipality", "ended_at"),
)

cap_deliveries = Table(
    "cap_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("incident_id", Integer, nullable=False),
    Column("identifier", String(200), nullable=False),  # CityOps's CAP identifier
    Column("msg_type", String(16), nullable=False),  # Alert | Update | Cancel
    Column("endpoint", String(64), nullable=False),  # public_warnings.endpoints[].id
    Column("kind", String(16), nullable=False),  # bg-alert | cap-post
    Column("url", String(500), nullable=False),
    Column("status", String(16), nullable=False),  # domain.dispatch.DeliveryStatus
    Column("attempts", Integer, nullable=False),
    Column("next_at", UTCDateTime(), nullable=False),
    Column("last_error", String(500)),
    Column("requested_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    Index("ix_cap_deliveries_due", "status", "next_at"),
    Index("ix_cap_deliveries_incident", "municipality", "incident_id"),
)
