"""The fence of multi-process ingest (ingest/pipeline.py ``fence``): a batch or a tick for a
municipality this process no longer owns writes nothing; and a database that is away is waited
for, not taken for one that refuses the message (ingest/unreachable.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from cityops.app import load_runtimes
from cityops.ingest.pipeline import FenceError, IngestPipeline, MessageOutcome
from cityops.ingest.unreachable import database_away
from cityops.store import tables as t
from tests.ingest.test_pipeline import count, incidents, level, msg
from tests.town import MUNI, FrozenClock


class Lease:
    """Whether this process owns the municipalities, as the fence sees it."""

    def __init__(self) -> None:
        self.held = True
        self.asked: list[frozenset[str]] = []

    def __call__(self, _conn: Connection, municipalities: frozenset[str]) -> None:
        self.asked.append(municipalities)
        if not self.held:
            raise FenceError(f"{sorted(municipalities)} belong to another process now")


@pytest.fixture
def lease() -> Lease:
    return Lease()


@pytest.fixture
def fenced(db: Engine, clock: FrozenClock, lease: Lease) -> IngestPipeline:
    p = IngestPipeline(db, load_runtimes(db), clock=clock, fence=lease)
    p.restore()
    return p


def test_a_fenced_batch_is_rolled_back_and_left_unacknowledged(
    fenced: IngestPipeline, lease: Lease, clock: FrozenClock, db: Engine
) -> None:
    outcomes: list[MessageOutcome] = []
    topic = f"cityops/{MUNI}/sensors/river-1/readings"
    lease.held = False
    fenced.process([msg(topic, {"value": 1.5, "ts": clock.now.isoformat()}, clock.now, outcomes)])
    assert (outcomes, fenced.fenced, count(db, t.readings)) == ([], 1, 0)
    lease.held = True
    fenced.process([msg(topic, {"value": 1.5, "ts": clock.now.isoformat()}, clock.now, outcomes)])
    assert [o.accepted for o in outcomes] == [1]
    assert count(db, t.readings) == 1
    assert lease.asked == [frozenset({MUNI})] * 2


def test_a_fenced_tick_opens_nothing(
    fenced: IngestPipeline, lease: Lease, clock: FrozenClock, db: Engine
) -> None:
    level(fenced, clock, 1.0, "river-2")
    clock.advance(minutes=16)  # river-2 silent long enough to be offline
    lease.held = False
    fenced.tick()
    assert incidents(db) == []
    lease.held = True
    fenced.tick()
    assert [i["type"] for i in incidents(db)] == ["sensor_offline"]


def test_a_busy_database_is_away_a_refusal_is_not(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    engine = create_engine(url, connect_args={"timeout": 0})
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE x (id INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO x VALUES (1)"))
    holder = sqlite3.connect(tmp_path / "x.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the database
    try:
        with pytest.raises(DBAPIError) as busy, engine.begin() as conn:
            conn.execute(text("INSERT INTO x VALUES (2)"))
        assert database_away(busy.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text("INSERT INTO x VALUES (1)"))  # the row is there: a refusal
    assert not database_away(refused.value)
    assert not database_away(ValueError("not a database error"))
    engine.dispose()
