"""A rate-of-change rule's state row is written only when needed (the first reading, a change of
the rule's state, a late reading inside its window), and a restart rebuilds its window from the
readings table (domain/engine_rate.py): on SQLite and PostgreSQL, a restart mid-window with
every reading redelivered and a late one stored gives the triggers of an uninterrupted run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cityops.app import import_config, load_runtimes
from cityops.domain.observations import Reading
from cityops.ingest.pipeline import InboundMessage, IngestPipeline
from cityops.store import observations_repo as obs
from cityops.store import tables as t
from tests.ingest.test_pipeline import incidents, msg
from tests.ingest.test_rule_state_rows import GAUGES
from tests.town import MUNI, FrozenClock

RISING = GAUGES.split("rules:")[0] + (
    "rules:\n"
    "  - {id: rise, kind: rate_of_change, sensor_kinds: [river_level], rise: 30, within: 10min,\n"
    "     incident: {type: flood, sector: disaster, severity: severe, title: 'Rise {name}'}}\n"
)
"""The gauges' town, its one gauge watched only by a rate-of-change rule (30 m within 10 min)."""

TOPIC = "cityops/gauges/sensors/g1/readings"
KEY = "rise|g1"


def start(db: Engine, clock: FrozenClock) -> IngestPipeline:
    pipeline = IngestPipeline(db, load_runtimes(db), clock=clock)
    pipeline.restore()
    return pipeline


def reading(clock: FrozenClock, value: float, minutes: float = 0.0) -> InboundMessage:
    ts = clock.now + timedelta(minutes=minutes)
    return msg(TOPIC, {"value": value, "ts": ts.isoformat()}, clock.now)


def row(db: Engine) -> tuple[Any, datetime] | None:
    c = t.rule_state.c
    with db.connect() as conn:
        found = conn.execute(
            select(c.value, c.updated_at).where(c.municipality == "gauges", c.key == KEY)
        ).first()
    return None if found is None else (found.value, found.updated_at)


def stored(db: Engine) -> int:
    with db.connect() as conn:
        return conn.execute(select(func.count()).select_from(t.readings)).scalar_one()


def test_a_restart_mid_window_with_redelivery_gives_the_same_triggers(
    db: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    (tmp_path / "gauges.yaml").write_text(RISING)
    import_config(db, tmp_path / "gauges.yaml", actor="test")
    first = start(db, clock)
    sent = []
    for value in (40.0, 10.0, 20.0):  # the window's minimum (10) comes after the first row
        sent.append(reading(clock, value))
        first.process([sent[-1]])
        if value == 40.0:
            baseline = row(db)
        clock.advance(minutes=1)
    assert baseline is not None
    assert row(db) == baseline  # written once, on the first reading: not with every reading
    assert incidents(db) == []
    count = stored(db)

    # the worker dies after its commits, before the PUBACKs: all comes again after a restart,
    # and a late, lower reading (inside the window) arrives too: stored, never evaluated
    second = start(db, clock)
    second.process([InboundMessage(m.topic, m.payload, clock.now) for m in sent])
    second.process([reading(clock, 0.0, minutes=-1.5)])
    assert stored(db) == count + 1
    assert incidents(db) == []
    third = start(db, clock)  # and another restart
    third.process([reading(clock, 35.0)])  # 25 above 10: below the 30 (it would be 35 above 0)
    assert incidents(db) == []
    clock.advance(minutes=1)
    third.process([reading(clock, 45.0)])  # 35 above the window's 10: raised, once
    assert [i["rule_id"] for i in incidents(db)] == ["rise"]
    third.process([reading(clock, 45.0)])  # the same again
    assert len(incidents(db)) == 1


def test_without_the_rebuild_the_restart_misses_the_rise(
    db: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    """The row alone (its window as of the first reading) would miss the rise: the readings
    table is what holds the window's minimum."""
    (tmp_path / "gauges.yaml").write_text(RISING)
    import_config(db, tmp_path / "gauges.yaml", actor="test")
    first = start(db, clock)
    for value in (40.0, 10.0):
        first.process([reading(clock, value)])
        clock.advance(minutes=1)
    entry = row(db)
    assert entry is not None
    assert [point[1] for point in entry[0]["window"]] == [40.0]  # 10.0 is only in the table
    restarted = start(db, clock)
    restarted.process([reading(clock, 41.0)])  # 31 above 10
    assert [i["rule_id"] for i in incidents(db)] == ["rise"]


@pytest.mark.parametrize("chunk", [1, 500])
def test_readings_since_gives_each_sensor_its_own_range(
    db: Engine, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    """The store's side of the rebuild: each sensor's readings from its own time on, oldest
    first, nothing of another sensor or municipality (in statements of ``chunk`` sensors on
    PostgreSQL)."""
    monkeypatch.setattr(obs, "_SINCE_CHUNK", chunk)
    t0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    rows = [
        Reading(MUNI, sensor, t0 + timedelta(minutes=m), float(m))
        for sensor in ("river-1", "river-2", "pm10-1")
        for m in (3, 0, 2, 1)
    ]
    with db.begin() as conn:
        obs.insert_readings(conn, rows)
        got = obs.readings_since(
            conn,
            MUNI,
            {"river-1": t0 + timedelta(minutes=2), "river-2": t0, "silent": t0},
        )
        elsewhere = obs.readings_since(conn, "elsewhere", {"river-1": t0})
    assert got == {
        "river-1": [(t0 + timedelta(minutes=m), float(m)) for m in (2, 3)],
        "river-2": [(t0 + timedelta(minutes=m), float(m)) for m in (0, 1, 2, 3)],
        "silent": [],
    }
    assert elsewhere == {"river-1": []}
