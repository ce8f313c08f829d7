"""The book of warnings in force, kept in the database (``store/warnings_repo.py``): each
opened or updated warning is written with its XML, each end recorded, and at start (or when the
municipality's ``public_warnings`` change) the book is rebuilt from the rows still in force. A
warning pushed once (HTTP, MQTT) therefore survives a restart, and a message seen before the
restart is not applied twice (docs/CAP.md "Kept across restarts")."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from cityops.cap.book import MAX_SEEN, AlertBook, Change, Outcome, Warning
from cityops.cap.check import check
from cityops.domain.entities import LonLat
from cityops.store import warnings_repo
from cityops.store.warnings_repo import StoredWarning

log = logging.getLogger(__name__)

_ENDS = {Change.CANCELLED: "cancelled", Change.EXPIRED: "expired", Change.LEFT: "left"}


def restore(db: Engine, municipality: str, book: AlertBook) -> int:
    """Fill ``book`` from the stored warnings of ``municipality``; returns how many are in
    force. A stored message that no longer reads as CAP 1.2 (it was valid when received) is
    logged and left out."""
    with db.connect() as conn:
        rows = warnings_repo.open_rows(conn, municipality)
        seen = warnings_repo.seen_keys(conn, municipality, MAX_SEEN)
    warnings = []
    for row in rows:
        alert = check(row.xml).alert
        if alert is None:
            log.warning("stored CAP message %s no longer reads; left out", row.identifier)
            continue
        warnings.append(Warning(alert, LonLat(row.lon, row.lat), row.replaces, row.signature))
    book.restore(warnings, seen)
    return len(warnings)


def record(db: Engine, municipality: str, outcome: Outcome, xml: bytes, now: datetime) -> None:
    """Write what ``outcome`` changed: a warning in force (with ``xml``, the message as
    received) or the end of one."""
    warning = outcome.warning
    with db.begin() as conn:
        if outcome.change in {Change.OPENED, Change.UPDATED}:
            stored = StoredWarning(
                warning.alert.sender,
                warning.alert.identifier,
                xml,
                warning.signature,
                warning.position.lon,
                warning.position.lat,
                warning.replaces,
            )
            warnings_repo.put(conn, municipality, stored, warning.alert.sent, now)
        else:
            warnings_repo.end(conn, municipality, [outcome.key], _ENDS[outcome.change], now)
