"""Vulnerable people registered for SOS (issue 9 item 4; domain/persons.py, docs/AGENCIES.md
"SOS of vulnerable people").

On the shared ``metadata`` of :mod:`cityops.store.tables` (imported at its end). A person's
photo is a file under the data directory (``photo`` is its name there, never a path from
outside); ``safe_area`` is the outline as ``[[lon, lat], ...]``. ``person_positions`` is the
track (positions and SOS signals), kept only ``persons.positions_hours`` (docs/PRIVACY.md)."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

persons = Table(
    "persons",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("kind", String(16), nullable=False),  # domain.persons.PersonKind
    Column("name", String(200), nullable=False),
    Column("guardian_name", String(200), nullable=False),
    Column("guardian_phone", String(40), nullable=False),
    Column("device_id", String(64), nullable=False),
    Column("safe_area", JSON, nullable=False),
    Column("notes", String(2000), nullable=False),
    Column("photo", String(100)),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index("uq_persons_device", "municipality", "device_id", unique=True),
)

person_positions = Table(
    "person_positions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64), nullable=False),
    Column("person_id", Integer, ForeignKey("persons.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # domain.persons.SignalKind
    Column("ts", UTCDateTime(), nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("accuracy_m", Float),
    Column("battery", Float),
    Column("inside", Boolean),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_person_positions_person", "municipality", "person_id", "ts"),
    Index("ix_person_positions_received", "received_at"),
)
