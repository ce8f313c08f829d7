"""The ingest path's precompiled statements (store/bulk.py) write exactly what SQLAlchemy writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.dialects import sqlite

from cityops.domain.observations import Reading
from cityops.store import observations_repo as obs
from cityops.store import tables as t
from cityops.store.bulk import sqlite_utc_text
from cityops.store.db import make_engine, upgrade
from cityops.store.types import UTCDateTime

_SQLITE = sqlite.dialect()
_SQLALCHEMY_TEXT = UTCDateTime().dialect_impl(_SQLITE).bind_processor(_SQLITE)

zones = st.just(UTC) | st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware = st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=zones)


@given(aware)
def test_sqlite_text_is_sqlalchemys(value: datetime) -> None:
    assert _SQLALCHEMY_TEXT is not None
    assert sqlite_utc_text(value) == _SQLALCHEMY_TEXT(value)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        sqlite_utc_text(datetime(2026, 1, 1))


@pytest.fixture
def db(db_url: str) -> Engine:
    upgrade(db_url)
    return make_engine(db_url)


def _count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.readings)).scalar_one())


def test_a_reading_written_both_ways_is_stored_once(db: Engine) -> None:
    """The primary key compares what SQLAlchemy's own insert wrote with what bulk writes: a
    redelivered reading stays one row whichever path stored it first."""
    at = datetime(2026, 5, 1, 12, 30, 15, 250000, tzinfo=UTC)
    with db.begin() as conn:
        conn.execute(
            t.readings.insert(),
            [{"municipality": "m", "sensor_id": "s", "ts": at, "value": 1.0}],
        )
    same_instant = at.astimezone(timezone(timedelta(hours=9)))
    with db.begin() as conn:
        obs.insert_readings(
            conn, [Reading("m", "s", same_instant, 2.0), Reading("m", "s", at, 3.0)]
        )
        obs.insert_readings(conn, [Reading("m", "s", at + timedelta(seconds=1), 4.0)])
    assert _count(db) == 2
    with db.connect() as conn:
        rows = conn.execute(
            select(t.readings.c.ts, t.readings.c.value).order_by(t.readings.c.ts)
        ).all()
    assert [(r.ts, r.value) for r in rows] == [(at, 1.0), (at + timedelta(seconds=1), 4.0)]


def test_rule_state_is_upserted_and_deleted(db: Engine) -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    with db.begin() as conn:
        obs.save_rule_state(conn, "m", {"a": {"x": 1}, "b": [1, 2]}, now)
    with db.begin() as conn:
        obs.save_rule_state(conn, "m", {"a": {"x": 2}, "b": None}, now + timedelta(hours=1))
        obs.save_rule_state(conn, "n", {"a": {"y": 3}}, now)
    with db.connect() as conn:
        assert obs.load_rule_state(conn, "m") == {"a": {"x": 2}}
        assert obs.load_rule_state(conn, "n") == {"a": {"y": 3}}
        stamp = conn.execute(
            select(t.rule_state.c.updated_at).where(t.rule_state.c.municipality == "m")
        ).scalar_one()
    assert stamp == now + timedelta(hours=1)
