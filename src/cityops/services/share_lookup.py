"""Finding agency shares (docs/AGENCIES.md "Shares"): by a link's token, checked on every use and
never cached (expiry and revocation count at once), an incident's, a municipality's. What
changes a share is ``services/shares.py``, which also offers these under its own name."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from cityops.domain.shares import Share, parse_token, token_digest
from cityops.store import shares_repo


def lookup_token(conn: Connection, token: object) -> Share | None:
    """The share a well-formed token names, whatever its status (None if none)."""
    valid = parse_token(token)
    return shares_repo.by_token_hash(conn, token_digest(valid)) if valid else None


def by_token(conn: Connection, token: object, now: datetime) -> Share | None:
    """The share the token names if it is ACTIVE at ``now``; None otherwise."""
    share = lookup_token(conn, token)
    return share if share is not None and share.is_active(now) else None


def for_incident(conn: Connection, municipality: str, incident_id: int) -> list[Share]:
    return shares_repo.for_incident(conn, municipality, incident_id)


def active(conn: Connection, municipality: str, now: datetime) -> list[Share]:
    return shares_repo.listing(conn, municipality, active_at=now)


def listing(conn: Connection, municipality: str) -> list[Share]:
    """The municipality's shares, newest first (the latest 500)."""
    return shares_repo.listing(conn, municipality)
