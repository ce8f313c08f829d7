"""Telling a database that is away from one that refuses a batch.

A batch whose transaction fails is retried three times, then split, and a single message that
still fails becomes a dead letter (ingest/pipeline.py). That is right when the database refuses
what the message holds; it is wrong when the database cannot be reached at all (a failover, a
restart, a lost connection, SQLite busy): then a valid reading would be acknowledged as an
``internal_error`` dead letter a second after the database went away. Such a failure is retried
with back-off, without counting attempts or splitting, and nothing is acknowledged meanwhile.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, OperationalError

AWAY_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "25006"})
"""PostgreSQL: admin shutdown, crash shutdown, cannot connect now, read-only transaction (a
standby not yet promoted); the whole class 08 (connection exceptions) counts too."""
SQLITE_AWAY = frozenset({"SQLITE_BUSY", "SQLITE_LOCKED"})


def database_away(err: BaseException) -> bool:
    """True when ``err`` says the database could not be reached or was not taking writes, not
    that it refused this batch."""
    if not isinstance(err, DBAPIError):
        return False
    if err.connection_invalidated:
        return True
    orig = err.orig
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return state.startswith("08") or state in AWAY_SQLSTATES
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        return name in SQLITE_AWAY
    # psycopg raises a connection failure (refused, timed out, no such host) without a SQLSTATE
    return isinstance(err, OperationalError) and type(orig).__module__.startswith("psycopg")
