"""Stale sensors: nothing received for ``factor`` times a sensor's expected interval.

No rule is needed: every sensor that declares ``expected_interval_s`` is watched. Like silence
rules, staleness is judged by receive time (a sensor with a skewed clock cannot hide), and like
the rule engine it is pure: every time is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from cityops.domain.engine_support import epoch
from cityops.domain.entities import Sensor

DEFAULT_STALE_FACTOR = 3.0


class Staleness:
    """The last receive time of each sensor and which of them are stale now."""

    def __init__(self, sensors: Iterable[Sensor], factor: float = DEFAULT_STALE_FACTOR) -> None:
        if factor <= 0:
            raise ValueError(f"the stale factor must be positive, not {factor}")
        self.factor = factor
        sensors = list(sensors)
        self._known = frozenset(s.id for s in sensors)
        self._limit_s = {
            s.id: factor * s.expected_interval_s for s in sensors if s.expected_interval_s
        }
        self._last: dict[str, float] = {}
        self._stale: set[str] = set()
        self.restored = False
        """Whether the stored receive times were loaded (after a start or a rebuild)."""

    def received(self, sensor_id: str, at: datetime) -> None:
        """Something arrived from the sensor at ``at``: it is not stale (any more)."""
        if sensor_id not in self._known:
            return
        ts = epoch(at)
        if ts > self._last.get(sensor_id, float("-inf")):
            self._last[sensor_id] = ts
        self._stale.discard(sensor_id)

    def restore(self, received: Mapping[str, datetime]) -> None:
        """Adopt the stored last receive times (newer ones seen meanwhile are kept)."""
        for sensor_id, at in received.items():
            if sensor_id not in self._known:
                continue
            ts = epoch(at)
            if ts > self._last.get(sensor_id, float("-inf")):
                self._last[sensor_id] = ts
        self.restored = True

    def reset(self) -> None:
        """Forget every receive time (they are to be restored again)."""
        self._last.clear()
        self._stale.clear()
        self.restored = False

    def tick(self, now: datetime) -> list[str]:
        """The sensors that became stale by ``now`` (each reported once until it comes back).

        A sensor never heard of is unknown, not stale: its silence has no start."""
        now_ts = epoch(now)
        fresh: list[str] = []
        for sensor_id, limit in self._limit_s.items():
            last = self._last.get(sensor_id)
            if last is not None and now_ts - last >= limit and sensor_id not in self._stale:
                self._stale.add(sensor_id)
                fresh.append(sensor_id)
        return fresh

    def is_stale(self, sensor_id: str) -> bool:
        return sensor_id in self._stale

    def has_received(self, sensor_id: str) -> bool:
        return sensor_id in self._last
