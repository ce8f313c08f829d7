"""Tables for device credentials for MQTT (issue 8).

They live on the shared ``metadata`` of :mod:`cityops.store.tables`; that module imports this one at
its end so that Alembic and the schema tests see every table.

A credential's secret is never stored: only its ``$7$`` PBKDF2-SHA512 hash, the form Mosquitto's
password file takes (domain/device_secret.py). Revoked credentials stay (``revoked_at`` set), so
the record of who could publish what, and until when, is kept."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

device_credentials = Table(
    "device_credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(140), nullable=False, unique=True),  # <municipality>.<name>
    Column("name", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    # no foreign key: like memberships, a credential may be made before the config is imported;
    # None: installation-wide (ingest, video workers)
    Column("municipality", String(64)),
    Column("devices", JSON, nullable=False),  # list of sensor/camera ids; [] = all
    Column("prefix", String(200)),  # a Frigate's topic prefix
    Column("secret_hash", String(200), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    Index("ix_device_credentials_municipality", "municipality"),
)
