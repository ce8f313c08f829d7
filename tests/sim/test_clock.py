from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from cityops.sim.clock import ManualWallClock, SimClock

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_starts_backfill_before_the_wall_clock_and_runs_speed_times_faster() -> None:
    wall = ManualWallClock(T0)
    clock = SimClock(backfill=timedelta(hours=26), speed=60.0, wall=wall)
    assert clock.start == T0 - timedelta(hours=26)
    assert clock.now() == clock.start
    wall.advance(timedelta(seconds=30))
    assert clock.now() == clock.start + timedelta(minutes=30)
    assert not clock.caught_up()


def test_catch_up_time_is_backfill_over_speed_minus_one() -> None:
    wall = ManualWallClock(T0)
    clock = SimClock(backfill=timedelta(hours=1), speed=61.0, wall=wall)
    assert clock.catch_up_duration() == timedelta(minutes=1)
    assert clock.catch_up_at() == T0 + timedelta(minutes=1)
    wall.advance(timedelta(seconds=59))
    assert clock.now() == T0 - timedelta(hours=1) + timedelta(seconds=59 * 61)
    assert clock.now() < wall()
    wall.advance(timedelta(seconds=1))
    assert clock.now() == wall()
    assert clock.caught_up()


def test_after_catching_up_it_runs_at_one_x_and_is_never_ahead_of_the_wall_clock() -> None:
    wall = ManualWallClock(T0)
    clock = SimClock(backfill=timedelta(hours=1), speed=10.0, wall=wall)
    for _ in range(100):
        wall.advance(timedelta(seconds=17))
        assert clock.now() <= wall()
    assert clock.caught_up()
    before = clock.now()
    wall.advance(timedelta(seconds=5))
    assert clock.now() - before == timedelta(seconds=5)


def test_infinite_speed_is_live_at_once_and_speed_one_never_catches_up() -> None:
    wall = ManualWallClock(T0)
    assert SimClock(backfill=timedelta(hours=5), speed=math.inf, wall=wall).now() == T0
    slow = SimClock(backfill=timedelta(minutes=5), speed=1.0, wall=wall)
    assert slow.catch_up_duration() is None
    wall.advance(timedelta(hours=3))
    assert wall() - slow.now() == timedelta(minutes=5)
    assert SimClock(speed=7.0, wall=wall).catch_up_duration() == timedelta(0)


def test_rejects_bad_arguments() -> None:
    wall = ManualWallClock(T0)
    with pytest.raises(ValueError, match="speed"):
        SimClock(speed=0.5, wall=wall)
    with pytest.raises(ValueError, match="backfill"):
        SimClock(backfill=timedelta(minutes=-1), wall=wall)
    with pytest.raises(ValueError, match="timezone-aware"):
        SimClock(wall=lambda: datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="backwards"):
        wall.advance(-1.0)
