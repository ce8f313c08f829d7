"""Dialect-neutral statements the two backends spell differently."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT the rows, silently skipping those whose primary key already exists."""
    if not rows:
        return
    if conn.dialect.name == "postgresql":
        conn.execute(postgresql.insert(table).on_conflict_do_nothing(), list(rows))
    else:
        conn.execute(sqlite.insert(table).on_conflict_do_nothing(), list(rows))


def upsert(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> None:
    """INSERT the rows, or UPDATE every other given column where the key already exists."""
    if not rows:
        return
    update_cols = [c for c in rows[0] if c not in keys]
    if conn.dialect.name == "postgresql":
        pg = postgresql.insert(table)
        conn.execute(
            pg.on_conflict_do_update(
                index_elements=list(keys), set_={c: pg.excluded[c] for c in update_cols}
            ),
            list(rows),
        )
    else:
        lite = sqlite.insert(table)
        conn.execute(
            lite.on_conflict_do_update(
                index_elements=list(keys), set_={c: lite.excluded[c] for c in update_cols}
            ),
            list(rows),
        )
