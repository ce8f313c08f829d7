"""Sensors go stale by themselves (3 x their expected interval of 60 s, by receive time): the
pipeline's tick tells the live feed, a reading brings them back, a restart judges from the
stored receive times. The clock is moved by hand."""

from __future__ import annotations

from sqlalchemy import Engine

from cityops.app import load_runtimes
from cityops.domain.entities import SensorState
from cityops.ingest.pipeline import IngestPipeline
from cityops.services.live import LiveMessage, SensorPayload
from tests.ingest.test_pipeline import level
from tests.town import MUNI, FrozenClock


def sensor_news(seen: list[LiveMessage]) -> list[tuple[str, float | None, str]]:
    return [
        (m.payload.id, m.payload.value, m.payload.state)
        for m in seen
        if isinstance(m.payload, SensorPayload)
    ]


def state(pipeline: IngestPipeline, sensor: str) -> SensorState:
    return pipeline.runtimes[MUNI].engine.sensor_state(sensor)


def test_stale_after_three_intervals_not_before_then_back(
    pipeline: IngestPipeline, clock: FrozenClock
) -> None:
    level(pipeline, clock, 1.5, "river-1")
    seen: list[LiveMessage] = []
    pipeline.live.subscribe(seen.extend)
    clock.advance(seconds=179)
    pipeline.tick()
    assert sensor_news(seen) == []
    assert state(pipeline, "river-1") is SensorState.OK
    clock.advance(seconds=1)
    pipeline.tick()
    assert sensor_news(seen) == [("river-1", 1.5, "stale")]
    assert state(pipeline, "river-1") is SensorState.STALE
    assert state(pipeline, "river-2") is SensorState.UNKNOWN  # never heard of: not stale
    clock.advance(seconds=30)
    pipeline.tick()
    assert len(sensor_news(seen)) == 1  # said once
    level(pipeline, clock, 1.6, "river-1")
    assert sensor_news(seen)[-1] == ("river-1", 1.6, "ok")
    assert state(pipeline, "river-1") is SensorState.OK


def test_a_restart_judges_from_the_stored_receive_times(db: Engine, clock: FrozenClock) -> None:
    first = IngestPipeline(db, load_runtimes(db), clock=clock)
    first.restore()
    level(first, clock, 1.0, "river-1")
    clock.advance(seconds=150)
    level(first, clock, 2.0, "river-2")
    clock.advance(seconds=50)  # river-1 silent for 200 s, river-2 for 50 s: then a restart
    second = IngestPipeline(db, load_runtimes(db), clock=clock)
    second.restore()
    seen: list[LiveMessage] = []
    second.live.subscribe(seen.extend)
    second.tick()
    # only the one really silent for 3 intervals; its last value comes from the database
    assert sensor_news(seen) == [("river-1", 1.0, "stale")]
    assert state(second, "river-2") is SensorState.OK
    assert state(second, "pm10-1") is SensorState.UNKNOWN
    clock.advance(seconds=130)
    second.tick()
    assert sensor_news(seen)[1:] == [("river-2", 2.0, "stale")]


def test_the_stale_factor_comes_from_the_runtime(db: Engine, clock: FrozenClock) -> None:
    slow = IngestPipeline(db, load_runtimes(db, stale_factor=5), clock=clock)
    slow.restore()
    level(slow, clock, 1.0, "river-1")
    clock.advance(seconds=299)
    slow.tick()
    assert state(slow, "river-1") is SensorState.OK
    clock.advance(seconds=1)
    slow.tick()
    assert state(slow, "river-1") is SensorState.STALE
    assert slow.runtimes[MUNI].rebuild().engine.staleness.factor == 5
