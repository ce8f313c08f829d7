"""The schema. Every table carries its municipality: installations are shared, data is not."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    text,
    true,
)

from cityops.store.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

OPEN_STATUSES_SQL = "status IN ('new', 'acknowledged', 'dispatched', 'on_scene')"


def _muni() -> Column[str]:
    return Column("municipality", String(64), ForeignKey("municipalities.id"), nullable=False)


def _configured_head() -> list[Column[Any]]:
    """The columns every configured entity starts with (agencies, key objects, cameras,
    sensors): its municipality, its id there, its names."""
    return [
        _muni(),
        Column("id", String(64), nullable=False),
        Column("name", String(200), nullable=False),
        Column("name_local", String(200)),
    ]


def _configured_tail() -> list[Column[Any] | PrimaryKeyConstraint]:
    """Entities that left the configuration stay (readings and incidents refer to them) but are
    no longer active; ids are unique within a municipality only."""
    return [
        Column("active", Boolean, nullable=False, server_default=true()),
        PrimaryKeyConstraint("municipality", "id"),
    ]


municipalities = Table(
    "municipalities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("name_local", String(200)),
    Column("timezone", String(64), nullable=False),
    Column("center_lon", Float),
    Column("center_lat", Float),
    Column("updated_at", UTCDateTime(), nullable=False),
)

config_versions = Table(
    "config_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _muni(),
    Column("source_name", String(500), nullable=False),
    Column("yaml", Text, nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
    Column("imported_by", String(200), nullable=False),
    Index("ix_config_versions_muni", "municipality", "id"),
)

agencies = Table(
    "agencies",
    metadata,
    *_configured_head(),
    Column("kind", String(32), nullable=False),
    Column("phone", String(64)),
    Column("email", String(320)),
    Column("webhook_url", String(2000)),
    *_configured_tail(),
)

key_objects = Table(
    "key_objects",
    metadata,
    *_configured_head(),
    Column("kind", String(32), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("importance", JSON, nullable=False),
    *_configured_tail(),
)

cameras = Table(
    "cameras",
    metadata,
    *_configured_head(),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("heading_deg", Float, nullable=False),
    Column("fov_deg", Float, nullable=False),
    Column("range_m", Float, nullable=False),
    Column("stream_url", String(2000)),
    Column("privacy_masks", JSON, nullable=False),
    Column("zones", JSON, nullable=False),
    Column("health", String(16), nullable=False, server_default="unknown"),
    Column("health_at", UTCDateTime()),
    Column("last_event_at", UTCDateTime()),
    *_configured_tail(),
)

sensors = Table(
    "sensors",
    metadata,
    *_configured_head(),
    Column("kind", String(32), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("valid_min", Float),
    Column("valid_max", Float),
    Column("expected_interval_s", Float),
    Column("last_value", Float),
    Column("last_ts", UTCDateTime()),
    Column("last_received_at", UTCDateTime()),
    *_configured_tail(),
)

readings = Table(
    "readings",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("sensor_id", String(64), primary_key=True),
    Column("ts", UTCDateTime(), primary_key=True),
    Column("value", Float, nullable=False),
    # On PostgreSQL one partition per UTC month (migration 0012, store/partitions_repo.py).
    postgresql_partition_by="RANGE (ts)",
)

events = Table(
    "events",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("source", String(16), nullable=False),
    Column("source_id", String(200), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("ts", UTCDateTime(), nullable=False),
    Column("lon", Float),
    Column("lat", Float),
    Column("zone", String(64)),
    Column("confidence", Float),
    Column("attributes", JSON, nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
    Index("ix_events_muni_ts", "municipality", "ts"),
)

incidents = Table(
    "incidents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _muni(),
    Column("type", String(64), nullable=False),
    Column("sector", String(16), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("title", String(500), nullable=False),
    Column("title_local", String(500)),
    Column("lon", Float),
    Column("lat", Float),
    Column("rule_id", String(64)),
    Column("dedup_key", String(300)),
    Column("proposed_agency", String(64)),
    Column("assigned_agency", String(64)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("acknowledged_at", UTCDateTime()),
    Column("dispatched_at", UTCDateTime()),
    Column("on_scene_at", UTCDateTime()),
    Column("resolved_at", UTCDateTime()),
    Column("closed_at", UTCDateTime()),
    Column("cameras", JSON, nullable=False),
    Column("event_count", Integer, nullable=False, server_default="0"),
    Index("ix_incidents_muni_status", "municipality", "status"),
    Index("ix_incidents_muni_created", "municipality", "created_at"),
    # One open incident per rule and place: later triggers join its timeline.
    Index(
        "uq_incidents_open_dedup",
        "municipality",
        "dedup_key",
        unique=True,
        sqlite_where=text(OPEN_STATUSES_SQL),
        postgresql_where=text(OPEN_STATUSES_SQL),
    ),
)

incident_timeline = Table(
    "incident_timeline",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    _muni(),
    Column("at", UTCDateTime(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("text", Text, nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16)),
    Column("data", JSON, nullable=False),
    Index("ix_incident_timeline_incident", "incident_id", "id"),
)

incident_events = Table(
    "incident_events",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    _muni(),
)

incident_sop_steps = Table(
    "incident_sop_steps",
    metadata,
    Column("incident_id", Integer, ForeignKey("incidents.id"), primary_key=True),
    Column("step_id", String(64), primary_key=True),
    _muni(),
    Column("done", Boolean, nullable=False),
    Column("done_by", String(200), nullable=False),
    Column("done_at", UTCDateTime(), nullable=False),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality", String(64)),
    Column("received_at", UTCDateTime(), nullable=False),
    Column("source", String(16), nullable=False),
    Column("topic", String(1000), nullable=False),
    Column("reason_code", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("payload", Text, nullable=False),
    Column("payload_size", Integer, nullable=False),
    Column("payload_sha256", String(64)),
    Index("ix_dead_letters_muni_id", "municipality", "id"),
)

rule_state = Table(
    "rule_state",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("key", String(300), primary_key=True),
    Column("value", JSON, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

basemap_layers = Table(
    "basemap_layers",
    metadata,
    Column("municipality", String(64), primary_key=True),
    Column("layer", String(32), primary_key=True),
    Column("geojson", Text, nullable=False),
    Column("feature_count", Integer, nullable=False),
    Column("bounds", JSON, nullable=False),
    Column("source_name", String(500), nullable=False),
    Column("imported_at", UTCDateTime(), nullable=False),
)

# Later features keep their tables in modules of their own, on the same metadata.
from cityops.store import (  # noqa: E402, F401  (after metadata exists)
    tables_access,
    tables_audit,
    tables_cluster,
    tables_devices,
    tables_dispatch,
    tables_evidence,
    tables_persons,
    tables_planner,
    tables_rollups,
    tables_shares,
    tables_warnings,
)
