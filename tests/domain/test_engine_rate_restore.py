"""A rate-of-change entry is written only when needed (domain/engine_rate.py), and the window is
rebuilt on restore from the readings stored after it: a restart, a worker crash before or after
a commit, redeliveries and late readings give exactly the triggers of an uninterrupted run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from enum import Enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cityops.domain.engine import JsonValue
from cityops.domain.observations import Reading
from cityops.domain.rules import Rule
from tests.domain.test_engine import (
    MUN,
    RAISED,
    Seen,
    StoredReadings,
    at,
    high,
    json_round_trip,
    make_engine,
    rate,
    since_t0,
)

RULES: tuple[Rule, ...] = (
    replace(rate(1.0, 120.0, clear_for_s=30.0), id="rise"),
    replace(rate(-1.5, 300.0), id="fall"),
    high(),
)


class Crash(Enum):
    NONE = "none"
    BEFORE_COMMIT = "before"  # the transaction rolled back: the engine rebuilt, all redelivered
    AFTER_COMMIT = "after"  # committed, PUBACKs lost: the engine rebuilt, all redelivered


Batch = Sequence[tuple[float, float]]


class Ingest:
    """The ingest pipeline's contract with the engine, without a database: a batch's readings
    stored (once each), sorted by time, evaluated; its dirty entries written with it."""

    def __init__(self) -> None:
        self.table = StoredReadings()
        self.store: dict[str, JsonValue] = {}
        self.engine = make_engine(*RULES)
        self.committed: list[Seen] = []

    def evaluate(self, batch: Batch) -> list[Seen]:
        seen: list[Seen] = []
        for seconds, value in sorted(batch, key=lambda point: point[0]):
            for t in self.engine.on_reading(Reading(MUN, "level-1", at(seconds), value), at(0)):
                seen.append((t.kind, since_t0(t.at), t.dedup_key))
        return seen

    def commit(self, batch: Batch) -> None:
        seen = self.evaluate(batch)
        for seconds, value in batch:
            self.table.insert("level-1", at(seconds), value)
        for key, value in json_round_trip(dict(self.engine.take_dirty_state())).items():
            if value is None:
                self.store.pop(key, None)
            else:
                self.store[key] = value
        self.committed += seen

    def restart(self) -> None:
        self.engine = make_engine(*RULES)
        self.engine.restore_state(json_round_trip(self.store), self.table.last(), self.table.since)

    def process(self, batch: Batch, crash: Crash) -> None:
        if crash is Crash.BEFORE_COMMIT:
            self.evaluate(batch)  # rolled back: its triggers never reach an incident
            self.restart()
        self.commit(batch)
        if crash is Crash.AFTER_COMMIT:
            self.restart()
            self.commit(batch)  # every reading of it again: none is judged twice


def uninterrupted(batches: Sequence[Batch]) -> Ingest:
    ingest = Ingest()
    for batch in batches:
        ingest.commit(batch)
    return ingest


readings = st.tuples(
    st.integers(0, 900).map(float), st.integers(-8, 8).map(lambda step: step * 0.5)
)
"""Times drawn at random: late readings (older than the newest evaluated) and readings at the
same time as an earlier one (a different value: the first stored is kept) come often."""
batches = st.lists(
    st.tuples(st.lists(readings, min_size=1, max_size=6), st.sampled_from(list(Crash))),
    min_size=1,
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(batches)
def test_restarts_give_the_triggers_of_an_uninterrupted_run(
    work: list[tuple[list[tuple[float, float]], Crash]],
) -> None:
    expected = uninterrupted([batch for batch, _ in work])
    ingest = Ingest()
    for batch, crash in work:
        ingest.process(batch, crash)
    assert ingest.committed == expected.committed
    assert ingest.engine.export_state() == expected.engine.export_state()
    ingest.restart()  # and one more restart at the end: the same state again
    assert ingest.engine.export_state() == expected.engine.export_state()


def test_a_restart_mid_window_with_redelivery_keeps_the_window() -> None:
    """The lowest reading of the window came after the entry was written (so only the readings
    table has it): after the restart a rise from it still raises, once; the redelivered
    readings raise nothing and a late low reading does not count as the window's minimum."""
    ingest = Ingest()
    ingest.commit([(0.0, 2.0)])  # the baseline entry
    ingest.commit([(30.0, 0.5)])
    ingest.commit([(60.0, 1.0)])
    assert ingest.committed == []
    entry = ingest.store["rise|level-1"]
    assert isinstance(entry, dict)
    assert entry["ts"] == at(0).timestamp()  # not rewritten by the two readings
    ingest.restart()
    ingest.commit([(0.0, 2.0), (30.0, 0.5), (60.0, 1.0)])  # redelivered
    ingest.commit([(45.0, -3.0)])  # late: stored, never evaluated
    ingest.restart()
    assert ingest.committed == []
    ingest.commit([(90.0, 1.6)])  # 1.1 above the window's minimum 0.5 (not -3.0)
    assert ingest.committed == [(RAISED, 90.0, "rise|level-1")]


def test_without_the_stored_readings_a_needed_rebuild_is_refused() -> None:
    ingest = Ingest()
    ingest.commit([(0.0, 2.0)])
    ingest.commit([(30.0, 0.5)])
    engine = make_engine(*RULES)
    with pytest.raises(ValueError, match="stored readings"):
        engine.restore_state(json_round_trip(ingest.store), ingest.table.last())


def test_the_entry_is_written_only_when_needed() -> None:
    engine = make_engine(*RULES)

    def written(seconds: float, value: float) -> list[str]:
        engine.on_reading(Reading(MUN, "level-1", at(seconds), value), at(seconds))
        return sorted(key for key in engine.take_dirty_state() if key.startswith("rise|"))

    assert written(0, 1.0) == ["rise|level-1"]  # the baseline
    assert [written(s, 1.2) for s in (10, 20, 30)] == [[], [], []]
    assert written(40, 2.5) == ["rise|level-1"]  # raised
    assert written(50, 2.6) == []  # still rising fast
    assert written(200, 2.6) == ["rise|level-1"]  # clearing
    assert written(231, 2.6) == ["rise|level-1"]  # cleared
    assert written(240, 2.6) == []
    assert written(100, 9.0) == []  # late, older than the window: the rebuild never reads it
    assert written(239, 9.0) == ["rise|level-1"]  # late, inside the window
