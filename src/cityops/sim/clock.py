"""The simulator's virtual clock: replays a backfill window fast, then follows the wall clock.

The clock starts ``backfill`` before the wall clock and runs ``speed`` times faster than it until
it has caught up; from then on it *is* the wall clock. So a reading stamped with ``now()`` is never
in the future, and the last stretch of a demo runs live.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

WallClock = Callable[[], datetime]
"""Returns the current time, timezone-aware."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class ManualWallClock:
    """A wall clock that only moves when told to (for tests and deterministic runs)."""

    def __init__(self, start: datetime) -> None:
        _require_aware(start, "start")
        self._now = start

    def __call__(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta | float) -> datetime:
        """Move forward by ``delta`` (a timedelta or seconds) and return the new time."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        if step < timedelta(0):
            raise ValueError("a wall clock does not go backwards")
        self._now += step
        return self._now

    def set(self, when: datetime) -> None:
        _require_aware(when, "when")
        if when < self._now:
            raise ValueError("a wall clock does not go backwards")
        self._now = when


class SimClock:
    """Simulated time: ``wall_start - backfill`` at start, ``speed`` x the wall clock until it
    reaches the wall clock, then 1x.

    ``speed`` must be >= 1; ``math.inf`` means "already caught up" (the backfill window is
    produced as fast as the consumer can take it). With ``speed == 1`` and a non-zero backfill the
    clock stays ``backfill`` behind for ever.
    """

    def __init__(
        self,
        *,
        backfill: timedelta = timedelta(0),
        speed: float = 1.0,
        wall: WallClock = utc_now,
    ) -> None:
        if math.isnan(speed) or speed < 1.0:
            raise ValueError(f"speed must be >= 1, got {speed}")
        if backfill < timedelta(0):
            raise ValueError("backfill must not be negative")
        self._wall = wall
        self.speed = speed
        self.backfill = backfill
        self.wall_start = wall()
        _require_aware(self.wall_start, "wall clock time")
        self.start = self.wall_start - backfill
        self._last = self.start

    def wall_now(self) -> datetime:
        return self._wall()

    def now(self) -> datetime:
        """The current simulated time (monotonic, never later than the wall clock)."""
        wall = self._wall()
        sim = wall if math.isinf(self.speed) else self._sim_at(wall)
        sim = min(sim, wall)
        self._last = max(self._last, sim)
        return self._last

    def caught_up(self) -> bool:
        """True once simulated time has reached the wall clock (live mode)."""
        return self.now() >= self._wall()

    def catch_up_duration(self) -> timedelta | None:
        """Wall time from start until the clock reaches the wall clock (None: never)."""
        if self.backfill == timedelta(0) or math.isinf(self.speed):
            return timedelta(0)
        if self.speed == 1.0:
            return None
        return self.backfill / (self.speed - 1.0)

    def catch_up_at(self) -> datetime | None:
        """Wall time at which the clock turns live (None: never)."""
        duration = self.catch_up_duration()
        return None if duration is None else self.wall_start + duration

    def _sim_at(self, wall: datetime) -> datetime:
        elapsed = (wall - self.wall_start).total_seconds()
        return self.start + timedelta(seconds=elapsed * self.speed)


def _require_aware(when: datetime, what: str) -> None:
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
