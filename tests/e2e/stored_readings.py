"""What the server under test stored, read from outside it (tests/e2e)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from cityops.store import tables as t
from cityops.store.db import make_engine


def stored_times(db_url: str, municipality: str, sensor: str) -> list[datetime]:
    """The times of one sensor's stored readings, read through an engine of the test's own (the
    server's connections are left alone); their number is the count of stored readings."""
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            c = t.readings.c
            rows = conn.execute(
                select(c.ts).where(c.municipality == municipality, c.sensor_id == sensor)
            )
            return [row.ts for row in rows]
    finally:
        db.dispose()
