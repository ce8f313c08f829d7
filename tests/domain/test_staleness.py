"""Stale sensors without any rule, judged by receive time on a clock the test moves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cityops.domain.engine import RuleEngine, SensorState
from cityops.domain.observations import Reading
from cityops.domain.rules import Rule
from cityops.domain.staleness import Staleness
from tests.domain.test_engine import LEVEL, MUN, MUNICIPALITY, SILENCE, TEMP, at, feed, high

GAUGE = replace(LEVEL, expected_interval_s=60.0)
"""Reports every minute: stale after 3 min of nothing (the default factor)."""


def stale_engine(*rules: Rule, factor: float = 3.0) -> RuleEngine:
    return RuleEngine(MUNICIPALITY, rules, [GAUGE, TEMP], [], stale_factor=factor)


def test_stale_at_three_intervals_not_before_and_reported_once() -> None:
    s = Staleness([GAUGE, TEMP])
    s.received("level-1", at(0))
    assert s.tick(at(179)) == []
    assert not s.is_stale("level-1")
    assert s.tick(at(180)) == ["level-1"]
    assert s.is_stale("level-1")
    assert s.tick(at(181)) == []  # already said
    assert s.tick(at(10_000)) == []
    s.received("level-1", at(10_001))
    assert not s.is_stale("level-1")
    assert s.tick(at(10_180)) == []
    assert s.tick(at(10_181)) == ["level-1"]


def test_a_sensor_never_heard_of_or_without_an_interval_is_never_stale() -> None:
    s = Staleness([GAUGE, TEMP])
    s.received("temp-1", at(0))  # TEMP declares no expected interval
    assert s.tick(at(1_000_000)) == []
    assert not s.has_received("level-1")
    s.received("elsewhere", at(0))  # not one of this municipality's sensors
    assert not s.has_received("elsewhere")


def test_the_factor_is_configurable_and_must_be_positive() -> None:
    s = Staleness([GAUGE], factor=5)
    s.received("level-1", at(0))
    assert s.tick(at(299)) == []
    assert s.tick(at(300)) == ["level-1"]
    with pytest.raises(ValueError, match="positive"):
        Staleness([GAUGE], factor=0)


def test_restore_takes_stored_receive_times_but_keeps_newer_ones() -> None:
    s = Staleness([GAUGE, TEMP])
    assert not s.restored
    s.received("level-1", at(100))  # arrived after the start, before the restore
    s.restore({"level-1": at(0), "temp-1": at(0), "gone": at(0)})
    assert s.restored
    assert s.tick(at(279)) == []  # judged from 100, not from the older stored 0
    assert s.tick(at(280)) == ["level-1"]
    s.reset()
    assert (s.restored, s.has_received("level-1"), s.is_stale("level-1")) == (False, False, False)


def test_engine_state_stale_without_rules_and_back_on_the_next_reading() -> None:
    engine = stale_engine()
    assert engine.sensor_state("level-1") is SensorState.UNKNOWN
    assert engine.on_reading(Reading(MUN, "level-1", at(0), 1.0), at(0)) == []
    assert engine.sensor_state("level-1") is SensorState.OK  # no rule watches it: still ok
    assert engine.stale_sensors(at(179)) == []
    assert engine.stale_sensors(at(180)) == ["level-1"]
    assert engine.sensor_state("level-1") is SensorState.STALE
    # a clock-skewed device: the reading is old, but it was received now
    engine.on_reading(Reading(MUN, "level-1", at(-3600), 1.0), at(200))
    assert engine.sensor_state("level-1") is SensorState.OK


def test_alarm_and_offline_outrank_stale() -> None:
    engine = stale_engine(high(), SILENCE)
    assert len(feed(engine, [(0, 3.0)])) == 1
    assert engine.stale_sensors(at(180)) == ["level-1"]
    assert engine.sensor_state("level-1") is SensorState.ALARM
    feed(engine, [(200, 2.0)])  # the alarm clears, and the gauge is fresh again
    assert engine.sensor_state("level-1") is SensorState.OK
    assert engine.stale_sensors(at(380)) == ["level-1"]
    assert engine.sensor_state("level-1") is SensorState.STALE
    assert [t.dedup_key for t in engine.tick(at(1100))] == ["offline|level-1"]
    assert engine.sensor_state("level-1") is SensorState.OFFLINE


def test_restoring_rule_state_starts_staleness_over() -> None:
    engine = stale_engine()
    engine.on_reading(Reading(MUN, "level-1", at(0), 1.0), at(0))
    engine.staleness.restore({})
    engine.restore_state({}, {})
    assert not engine.staleness.restored  # the pipeline restores receive times on its next tick
    assert engine.stale_sensors(at(1000)) == []
