"""Running the simulator over a fixed window into memory."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.observations import Reading
from cityops.sim.base import Scenario
from cityops.sim.clock import ManualWallClock, SimClock
from cityops.sim.publisher import RecordingPublisher
from cityops.sim.runner import Simulator


def simulate(
    config: MunicipalityConfig,
    scenarios: Sequence[Scenario],
    start: datetime,
    end: datetime,
    seed: int = 0,
) -> tuple[Simulator, RecordingPublisher]:
    """Everything the simulator publishes between ``start`` and ``end`` (= the wall clock)."""
    wall = ManualWallClock(end)
    clock = SimClock(backfill=end - start, speed=math.inf, wall=wall)
    publisher = RecordingPublisher()
    sim = Simulator(config, publisher, clock, scenarios, seed)
    sim.step()
    return sim, publisher


def series(readings: Sequence[Reading], sensor_id: str) -> list[Reading]:
    return sorted((r for r in readings if r.sensor_id == sensor_id), key=lambda r: r.ts)


def longest_run_above(readings: Sequence[Reading], limit: float) -> float:
    """Seconds of the longest stretch of consecutive readings above ``limit``."""
    best, since = 0.0, None
    for r in readings:
        if r.value > limit:
            since = since or r.ts
            best = max(best, (r.ts - since).total_seconds())
        else:
            since = None
    return best


def max_rise_within(readings: Sequence[Reading], window_s: float) -> float:
    best = 0.0
    for i, a in enumerate(readings):
        for b in readings[i + 1 :]:
            if (b.ts - a.ts).total_seconds() > window_s:
                break
            best = max(best, b.value - a.value)
    return best
