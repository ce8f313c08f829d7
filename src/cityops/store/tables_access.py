"""Tables for accounts, memberships, API tokens, console sessions, incident hand-overs (issue 8).

They live on the shared ``metadata`` of :mod:`cityops.store.tables`; that module imports this one at
its end so that Alembic and the schema tests see every table.

Secrets are never stored: passwords as Argon2id hashes, API tokens and session ids as the
SHA-256 of the value handed out (a database dump gives no way in)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from cityops.store.tables import metadata
from cityops.store.types import UTCDateTime

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", String(200)),  # None: no password login (single sign-on only)
    # "<provider id>|<sub>" of an account made by single sign-on: found by this, never by name
    Column("sso_subject", String(300), unique=True),
    Column("installation_admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # no foreign key: an account may be granted a municipality before its configuration is imported
    Column("municipality", String(64), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("agency", String(64)),
    Column("expires_at", UTCDateTime()),
    Column("unmasked_video", Boolean, nullable=False),
    Column("granted_by", String(200), nullable=False),
    Column("granted_at", UTCDateTime(), nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("digest", String(64), nullable=False, unique=True),  # SHA-256 hex of the token
    Column("name", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_used_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

console_sessions = Table(
    "console_sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 hex of the cookie's value
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("via", String(16), nullable=False),  # session (password) or oidc
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),  # absolute end, whatever the activity
    Index("ix_console_sessions_user", "user_id"),
)

incident_handovers = Table(
    "incident_handovers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=False),
    Column("from_municipality", String(64), nullable=False),
    Column("to_municipality", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Index("ix_incident_handovers_to", "to_municipality", "incident_id"),
    Index("ix_incident_handovers_incident", "incident_id"),
)
