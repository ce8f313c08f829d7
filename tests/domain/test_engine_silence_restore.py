"""A silence entry is written only when its own state changes (domain/engine_silence.py), and the
receive time of the newest evaluated reading comes back from the sensors table's mark on restore:
a restart, a worker crash before or after a commit (of a batch or of a tick) with everything
redelivered, late and repeated readings and ticks at any time give exactly the triggers of an
uninterrupted run. A batch redelivered after a crash before its commit is received at the same
moment here (a restart that takes no time): received later, its readings would count from later,
as in any run that received them later."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.engine import JsonValue
from cityops.domain.observations import Reading
from cityops.domain.rules import Rule, SensorSelector, SilenceRule
from tests.domain.test_engine import (
    CLEARED,
    MUN,
    OUTCOME,
    RAISED,
    StoredReadings,
    at,
    high,
    json_round_trip,
    make_engine,
    since_t0,
)
from tests.domain.test_engine_rate_restore import Crash

SILENCE_S = 300.0
RULES: tuple[Rule, ...] = (
    SilenceRule(
        id="offline",
        municipality=MUN,
        outcome=OUTCOME,
        sensors=SensorSelector(sensor_ids=("level-1", "temp-1")),
        silence_s=SILENCE_S,
    ),
    high(),
)

Seen = tuple[object, float, str, str]
"""(kind, seconds after T0, dedup key, text): the text names the silence's length."""


@dataclass(frozen=True)
class Message:
    sensor: str
    ts: float  # the reading's time, seconds after T0
    value: float
    rx: float  # its receive time, seconds after T0


class Ingest:
    """The ingest pipeline's contract with the engine, without a database: a batch's readings
    stored (once each) and evaluated in time order, the sensors' mark moved to the newest, the
    dirty entries written with them; a tick's dirty entries written with its incidents."""

    def __init__(self) -> None:
        self.table = StoredReadings()
        self.store: dict[str, JsonValue] = {}
        self.engine = make_engine(*RULES)
        self.committed: list[Seen] = []

    def evaluate(self, batch: Sequence[Message]) -> list[Seen]:
        seen: list[Seen] = []
        for m in sorted(batch, key=lambda m: m.ts):
            reading = Reading(MUN, m.sensor, at(m.ts), m.value)
            seen += _seen(self.engine.on_reading(reading, at(m.rx)))
        return seen

    def write(self, seen: list[Seen]) -> None:
        """The dirty entries written (None: the entry deleted), with the triggers' incidents."""
        dirty = json_round_trip(dict(self.engine.take_dirty_state()))
        self.store.update((k, v) for k, v in dirty.items() if v is not None)
        for gone in [k for k, v in dirty.items() if v is None]:
            self.store.pop(gone, None)
        self.committed += seen

    def commit(self, batch: Sequence[Message]) -> None:
        seen = self.evaluate(batch)
        for m in sorted(batch, key=lambda m: m.ts):  # the newest first stored is the mark's
            self.table.insert(m.sensor, at(m.ts), m.value, at(m.rx))
        self.write(seen)

    def tick(self, now: float) -> None:
        self.write(_seen(self.engine.tick(at(now))))

    def restart(self) -> None:
        self.engine = make_engine(*RULES)
        self.engine.restore_state(
            json_round_trip(self.store), self.table.last(), self.table.since, self.table.received()
        )

    def process(self, batch: Sequence[Message], crash: Crash) -> None:
        """A batch; a crash before its commit (rolled back: its triggers never reach an
        incident) or after it (the PUBACKs lost: every reading of it again, none judged
        twice), the engine rebuilt from the store each time."""
        around(crash, lambda: self.evaluate(batch), self.restart, lambda: self.commit(batch))

    def process_tick(self, now: float, crash: Crash) -> None:
        """A tick; after a crash the restarted engine ticks at the same moment before any
        reading (judged from the restored mark; nothing raised twice)."""
        around(crash, lambda: self.engine.tick(at(now)), self.restart, lambda: self.tick(now))


def around(
    crash: Crash,
    rolled_back: Callable[[], object],
    restart: Callable[[], None],
    commit: Callable[[], None],
) -> None:
    if crash is Crash.BEFORE_COMMIT:
        rolled_back()
        restart()
    commit()
    if crash is Crash.AFTER_COMMIT:
        restart()
        commit()


def _seen(triggers: Sequence[object]) -> list[Seen]:
    out: list[Seen] = []
    for t in triggers:
        assert hasattr(t, "kind")
        out.append((t.kind, since_t0(t.at), t.dedup_key, t.text))
    return out


Step = tuple[float, list[tuple[str, float, float, float]] | None, Crash]
"""(seconds the clock moves on, a batch of (sensor, reading time, value, receive delay) or None
for a tick, a crash)."""


def run(steps: Sequence[Step], crashes: bool) -> Ingest:
    ingest = Ingest()
    now = 0.0
    for advance, batch, crash in steps:
        now += advance
        chosen = crash if crashes else Crash.NONE
        if batch is None:
            ingest.process_tick(now, chosen)
        else:
            messages = [Message(s, ts, v, now + delay) for s, ts, v, delay in batch]
            ingest.process(messages, chosen)
    return ingest


messages = st.tuples(
    st.sampled_from(["level-1", "temp-1"]),
    st.integers(0, 60).map(lambda m: m * 60.0),  # reading times: late and repeated ones often
    st.sampled_from([1.0, 3.0]),  # below and above the threshold
    st.integers(0, 5).map(float),
)
steps = st.lists(
    st.tuples(
        st.sampled_from([0.0, 30.0, 120.0, 299.0, 300.0, 301.0, 900.0]),  # around the limit
        st.none() | st.lists(messages, min_size=1, max_size=5),
        st.sampled_from(list(Crash)),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(steps)
def test_restarts_give_the_triggers_of_an_uninterrupted_run(work: list[Step]) -> None:
    expected = run(work, crashes=False)
    ingest = run(work, crashes=True)
    assert ingest.committed == expected.committed
    assert ingest.engine.export_state() == expected.engine.export_state()
    ingest.restart()  # and one more restart at the end: the same state again
    assert ingest.engine.export_state() == expected.engine.export_state()


def level(ingest: Ingest) -> list[Seen]:
    return [seen for seen in ingest.committed if seen[2] == "offline|level-1"]


def test_a_restart_before_any_reading_judges_the_tick_from_the_mark() -> None:
    """Readings every minute after the entry was written (so only the sensors table has the
    last receive time): after a restart the first tick counts the silence from the last one."""
    ingest = Ingest()
    for minute in range(11):
        ingest.commit([Message("level-1", minute * 60.0 - 5, 1.0, minute * 60.0)])
        ingest.tick(minute * 60.0 + 30)
    entry = ingest.store["offline|level-1"]
    assert isinstance(entry, dict)
    assert entry["last_rx"] == at(0).timestamp()  # the first reading's: not rewritten since
    ingest.restart()
    ingest.tick(600.0 + SILENCE_S - 1)
    assert level(ingest) == []
    ingest.restart()
    ingest.tick(600.0 + SILENCE_S)
    raised = (RAISED, 900.0, "offline|level-1", "river level: no reading for 5 min")
    assert level(ingest) == [raised]
    ingest.restart()
    ingest.tick(2000.0)  # raised once
    ingest.commit([Message("level-1", 700.0, 1.0, 2100.0)])
    text = "river level: back online after 25 min without readings"
    assert level(ingest)[1:] == [(CLEARED, 2100.0, "offline|level-1", text)]


def test_a_late_reading_does_not_count_as_heard_of() -> None:
    """A late reading (no newer than the newest evaluated) never counted: it moves neither the
    mark nor the silence, before a restart or after."""
    ingest = Ingest()
    ingest.commit([Message("level-1", 600.0, 1.0, 0.0)])
    ingest.commit([Message("level-1", 60.0, 1.0, 200.0)])  # late: stored, not evaluated
    ingest.restart()
    ingest.tick(300.0)
    assert [seen[:3] for seen in level(ingest)] == [(RAISED, 300.0, "offline|level-1")]


def test_without_receive_times_a_needed_restore_is_refused() -> None:
    ingest = Ingest()
    ingest.commit([Message("level-1", 0.0, 1.0, 0.0)])
    ingest.commit([Message("level-1", 60.0, 1.0, 60.0)])
    engine = make_engine(*RULES)
    with pytest.raises(ValueError, match="receive times"):
        engine.restore_state(json_round_trip(ingest.store), ingest.table.last())


def test_the_entry_is_written_only_when_its_state_changes() -> None:
    engine = make_engine(*RULES)

    def written(rx: float, reading: float | None = None) -> list[str]:
        if reading is None:
            engine.tick(at(rx))
        else:
            engine.on_reading(Reading(MUN, "temp-1", at(reading), 1.0), at(rx))
        return sorted(key for key in engine.take_dirty_state() if key == "offline|temp-1")

    assert written(0.0) == ["offline|temp-1"]  # never heard of: counted from now
    assert [written(s, s) for s in (10.0, 20.0, 30.0)] == [[], [], []]
    assert written(200.0) == []
    assert written(330.0) == ["offline|temp-1"]  # raised
    assert written(400.0) == []
    assert written(500.0, 40.0) == ["offline|temp-1"]  # cleared
    assert [written(s, s) for s in (510.0, 520.0)] == [[], []]
    assert written(530.0, 25.0) == []  # late


def test_a_new_rule_counts_from_its_first_tick_as_before() -> None:
    """No entry yet (a rule added to a running town): the sensor's history does not raise it at
    once; its first tick starts the count, as it always did."""
    ingest = Ingest()
    ingest.table.insert("level-1", at(0), 1.0, at(0))
    ingest.restart()
    ingest.tick(5000.0)
    assert level(ingest) == []
    ingest.restart()
    ingest.tick(5000.0 + SILENCE_S)
    assert [seen[:3] for seen in level(ingest)] == [(RAISED, 5300.0, "offline|level-1")]
