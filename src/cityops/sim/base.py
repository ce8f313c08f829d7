"""What every scenario is: a start, an end, and two generators the simulator calls."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from cityops.domain.entities import LonLat, Sensor


class ScenarioError(ValueError):
    """A scenario cannot be placed: the municipality lacks the devices, or the window is short."""


@dataclass(frozen=True, slots=True)
class SimEvent:
    """A camera event before the simulator gives it a run-unique id."""

    camera_id: str
    kind: str
    ts: datetime
    zone: str | None = None
    confidence: float | None = None
    position: LonLat | None = None
    """Where it happened, when not at the camera itself."""
    attributes: Mapping[str, str] = field(default_factory=dict)


class Scenario(Protocol):
    """A scripted happening in simulated time.

    ``adjust`` returns the reading ``sensor`` reports at ``ts`` instead of its baseline ``value``
    (``None``: it reports nothing); ``events`` returns the camera events with
    ``start <= ts < end``.
    """

    @property
    def name(self) -> str: ...

    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime | None:
        """When the scenario stops having any effect (None: never)."""

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None: ...

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]: ...


def ramp(x: float) -> float:
    """0 -> 1 smoothly (half cosine) for x in [0, 1]."""
    x = min(1.0, max(0.0, x))
    return 0.5 - 0.5 * math.cos(math.pi * x)
