"""A silence rule's state row is written only when its own state changes (it starts counting,
raises, clears), not with every reading; the receive time of the newest evaluated reading comes
back from the sensors table (``last_received_at``) on restore (domain/engine_silence.py): on
SQLite and PostgreSQL, restarts with every reading redelivered and a tick before any new reading
give the triggers of an uninterrupted run."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from cityops.app import import_config
from cityops.ingest.pipeline import InboundMessage
from cityops.store import tables as t
from tests.ingest.test_pipeline import incidents, msg
from tests.ingest.test_rate_state_rows import TOPIC, start
from tests.ingest.test_rule_state_rows import GAUGES, timeline
from tests.town import FrozenClock

QUIET = GAUGES.split("rules:")[0] + (
    "rules:\n"
    "  - {id: quiet, kind: silence, sensor_kinds: [river_level], silence: 10min,\n"
    "     incident: {type: sensor_offline, sector: utilities, severity: minor,\n"
    "                title: 'Offline {name}'}}\n"
)
"""The gauges' town, its one gauge watched only by a silence rule (10 min)."""

KEY = "quiet|g1"


def reading(clock: FrozenClock, value: float) -> InboundMessage:
    taken = clock.now - timedelta(seconds=5)
    return msg(TOPIC, {"value": value, "ts": taken.isoformat()}, clock.now)


def row(db: Engine) -> tuple[Any, datetime] | None:
    """The silence entry of the gauge: (value, updated_at), None while there is none."""
    c = t.rule_state.c
    query = select(c.value, c.updated_at).where(c.municipality == "gauges", c.key == KEY)
    with db.connect() as conn:
        return next(((r.value, r.updated_at) for r in conn.execute(query)), None)


def configure(db: Engine, tmp_path: Path, town: str) -> None:
    path = tmp_path / "gauges.yaml"
    path.write_text(town)
    import_config(db, path, actor="test")


def offline(db: Engine) -> list[str]:
    """The rules of the gauges' incidents (the fixture's own town has silence rules too)."""
    return [i["rule_id"] for i in incidents(db) if i["municipality"] == "gauges"]


def test_a_restart_judges_the_silence_from_the_last_reading_received(
    db: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    configure(db, tmp_path, QUIET)
    first = start(db, clock)
    sent = []
    for minute in range(6):  # a reading a minute, a tick after each
        sent.append(reading(clock, 2.0))
        first.process([sent[-1]])
        if minute == 0:
            counting = row(db)
        clock.advance(seconds=30)
        first.tick()
        clock.advance(seconds=30)
    assert counting is not None
    assert counting[0]["last_rx"] == sent[0].received_at.timestamp()
    assert row(db) == counting  # written once, when it started counting: not with every reading
    last_received = sent[-1].received_at

    # the worker dies after its commits, before the PUBACKs: all comes again after a restart,
    # received now; none of it is newer than what was evaluated, so none of it is heard of
    second = start(db, clock)
    second.process([InboundMessage(m.topic, m.payload, clock.now) for m in sent])
    assert row(db) == counting
    third = start(db, clock)  # and another restart; its first tick before any new reading
    clock.now = last_received + timedelta(minutes=10, seconds=-1)
    third.tick()
    assert offline(db) == []  # 10 min less a second since the last reading received
    clock.advance(seconds=1)
    third.tick()
    assert offline(db) == ["quiet"]  # raised, once
    entry = row(db)
    assert entry is not None
    assert entry[0]["silent"] is True
    fourth = start(db, clock)
    clock.advance(minutes=5)
    fourth.tick()
    assert offline(db) == ["quiet"]
    clock.advance(minutes=1)
    fourth.process([reading(clock, 2.0)])  # back: cleared
    entry = row(db)
    assert entry is not None
    assert entry[0]["silent"] is False
    assert timeline(db).count("cleared") == 1


def test_a_new_silence_rule_counts_from_its_first_tick(
    db: Engine, clock: FrozenClock, tmp_path: Path
) -> None:
    """A gauge that reported long before its silence rule existed has no row: the rule starts
    counting on its first tick (written then), as it always did."""
    configure(db, tmp_path, GAUGES)  # its threshold rule only
    first = start(db, clock)
    first.process([reading(clock, 2.0)])
    configure(db, tmp_path, QUIET)
    clock.advance(hours=2)
    second = start(db, clock)
    second.tick()
    assert offline(db) == []
    entry = row(db)
    assert entry is not None
    assert entry[0]["last_rx"] == clock.now.timestamp()
    clock.advance(minutes=10)
    start(db, clock).tick()
    assert offline(db) == ["quiet"]
