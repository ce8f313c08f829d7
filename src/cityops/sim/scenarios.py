"""Scripted scenarios: what happens in the simulated town, and when (in simulated time).

Each scenario is plain data (where, when, which devices) resolved from a municipality's
configuration by a factory function, plus two generators the simulator calls (see
``cityops.sim.base.Scenario``). The sensor scenarios live here, the camera ones in
``cityops.sim.cameras``; this module is the one place to import them all from.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Sensor, SensorKind
from cityops.sim.base import Scenario, ScenarioError, SimEvent, ramp
from cityops.sim.cameras import (
    AccidentScenario,
    CameraPair,
    IntrusionScenario,
    RecurringAccidentScenario,
    accident,
    crossing_pairs,
    intrusion,
    is_night,
    recurring_accidents,
)
from cityops.sim.signals import gauss, rainfall_value, stable_hash, uniform

__all__ = [
    "AccidentScenario",
    "CameraPair",
    "FloodScenario",
    "IntrusionScenario",
    "PollutionScenario",
    "RecurringAccidentScenario",
    "Scenario",
    "ScenarioError",
    "SensorOutage",
    "SimEvent",
    "accident",
    "crossing_pairs",
    "flood",
    "intrusion",
    "is_night",
    "pollution",
    "recurring_accidents",
    "sensor_outage",
]


# sensors -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FloodScenario:
    """A flood wave: each gauge rises to its peak, holds, then falls; downstream gauges lag.

    Rain gauges report a heavy downpour in the hours before the wave.
    """

    start: datetime
    gauges: tuple[str, ...]
    """Ordered upstream to downstream."""
    rain_gauges: tuple[str, ...] = ()
    peak_m: float = 3.4
    attenuation_m: float = 0.05
    """Each gauge downstream peaks this much lower."""
    rise: timedelta = timedelta(minutes=90)
    hold: timedelta = timedelta(minutes=30)
    fall: timedelta = timedelta(minutes=150)
    lag: timedelta = timedelta(minutes=20)
    rain_lead: timedelta = timedelta(hours=3)
    rain_peak_mm_h: float = 28.0
    """Above 20 mm/h for about 110 minutes: enough for a heavy-rain alert."""
    name: str = "flood"

    @property
    def end(self) -> datetime:
        return self.gauge_start(len(self.gauges) - 1) + self.rise + self.hold + self.fall

    def gauge_start(self, index: int) -> datetime:
        return self.start + self.lag * index

    def level_shape(self, since_start: timedelta) -> float:
        """0..1: how far the wave has lifted a gauge ``since_start`` after it began to rise."""
        s = since_start.total_seconds()
        rise, hold = self.rise.total_seconds(), self.hold.total_seconds()
        if s <= 0.0:
            return 0.0
        if s < rise:
            return ramp(s / rise)
        if s < rise + hold:
            return 1.0
        return 1.0 - ramp((s - rise - hold) / self.fall.total_seconds())

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        if sensor.id in self.gauges:
            index = self.gauges.index(sensor.id)
            shape = self.level_shape(ts - self.gauge_start(index))
            if shape <= 0.0:
                return value
            peak = self.peak_m - self.attenuation_m * index
            ripple = 0.01 * math.sin(ts.timestamp() / 97.0) * shape
            return round(value + (peak - value) * shape + ripple, 3)
        if sensor.id in self.rain_gauges:
            rain_start = self.start - self.rain_lead
            span = (self.start + self.rise / 2 - rain_start).total_seconds()
            x = (ts - rain_start).total_seconds() / span
            if 0.0 <= x <= 1.0:
                rate = self.rain_peak_mm_h * math.sin(math.pi * x)
                return round(max(value, rainfall_value(sensor, rate)), 2)
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        return ()


@dataclass(frozen=True, slots=True)
class PollutionScenario:
    """A particulate episode: PM10 between 70 and 120 µg/m³ for ``duration`` at each station
    (PM2.5 about 60% of that), ramping up before ``start`` and down after."""

    start: datetime
    sensors: tuple[str, ...]
    duration: timedelta = timedelta(hours=2)
    ramp: timedelta = timedelta(minutes=15)
    seed: int = 0
    name: str = "pollution"

    @property
    def end(self) -> datetime:
        return self.start + self.duration + self.ramp

    def pm10_level(self, sensor_id: str, ts: datetime) -> float:
        key = stable_hash(self.seed, "pollution", sensor_id)
        t = ts.timestamp()
        wave = math.sin(2.0 * math.pi * t / 2820.0 + 6.28 * uniform(key, 0))
        level = 95.0 + 17.0 * wave + 4.0 * gauss(key, int(t))
        return min(119.0, max(71.0, level))

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        if sensor.id not in self.sensors:
            return value
        ramp_s = self.ramp.total_seconds()
        if ts < self.start:
            weight = ramp(1.0 - (self.start - ts).total_seconds() / ramp_s)
        elif ts < self.start + self.duration:
            weight = 1.0
        else:
            weight = ramp(1.0 - (ts - self.start - self.duration).total_seconds() / ramp_s)
        if weight <= 0.0:
            return value
        level = self.pm10_level(sensor.id, ts)
        if sensor.kind is SensorKind.PM25:
            level *= 0.6
        return round(value + (level - value) * weight, 1)

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        return ()


@dataclass(frozen=True, slots=True)
class SensorOutage:
    """Sensors that stop reporting between ``start`` and ``end``, then come back."""

    start: datetime
    end: datetime
    sensor_ids: tuple[str, ...]
    name: str = "outage"

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        if sensor.id in self.sensor_ids and self.start <= ts < self.end:
            return None
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        return ()


# factories -----------------------------------------------------------------------------------


def _sensors_of(config: MunicipalityConfig, *kinds: SensorKind) -> list[Sensor]:
    return [s for s in config.sensors if s.kind in kinds]


def _known_sensors(config: MunicipalityConfig, ids: Sequence[str]) -> tuple[str, ...]:
    unknown = [i for i in ids if config.sensor(i) is None]
    if unknown:
        raise ScenarioError(f"unknown sensors: {', '.join(unknown)}")
    return tuple(ids)


def flood(
    config: MunicipalityConfig,
    start: datetime,
    *,
    gauges: Sequence[str] | None = None,
    river: str | None = "tundzha",
) -> FloodScenario:
    """A flood wave on the river gauges. Without ``gauges``: the ``river_level`` sensors whose
    id (else name) mentions ``river`` (all of them if none does), west to east, i.e. upstream
    first (the Tundzha flows east through the Kazanlak valley)."""
    if gauges is None:
        found = _sensors_of(config, SensorKind.RIVER_LEVEL)
        if river is not None:
            by_id = [s for s in found if river.lower() in s.id.lower()]
            by_name = [s for s in found if river.lower() in s.name.lower()]
            found = by_id or by_name or found
        gauges = [s.id for s in sorted(found, key=lambda s: (s.position.lon, s.id))]
    if not gauges:
        raise ScenarioError("flood: the municipality has no river_level sensors")
    rain = tuple(s.id for s in _sensors_of(config, SensorKind.RAINFALL))
    return FloodScenario(start, _known_sensors(config, gauges), rain)


def pollution(
    config: MunicipalityConfig,
    start: datetime,
    *,
    sensors: Sequence[str] | None = None,
    stations: int | None = 3,
    duration: timedelta = timedelta(hours=2),
    seed: int = 0,
) -> PollutionScenario:
    """A PM episode. Without ``sensors``: the PM10 and PM2.5 sensors of the ``stations``
    monitoring sites (sensors at the same place) nearest the centre (None: every site)."""
    if sensors is None:
        found = _sensors_of(config, SensorKind.PM10, SensorKind.PM25)
        sites: dict[tuple[float, float], list[Sensor]] = {}
        for sensor in found:
            key = (round(sensor.position.lon, 4), round(sensor.position.lat, 4))
            sites.setdefault(key, []).append(sensor)
        centre = config.municipality.center
        if centre is not None:
            ranked = sorted(
                sites, key=lambda k: (k[0] - centre.lon) ** 2 + (k[1] - centre.lat) ** 2
            )
        else:
            ranked = sorted(sites)
        chosen = ranked if stations is None else ranked[:stations]
        sensors = sorted(s.id for key in chosen for s in sites[key])
    if not sensors:
        raise ScenarioError("pollution: the municipality has no pm10/pm25 sensors")
    return PollutionScenario(start, _known_sensors(config, sensors), duration, seed=seed)


def sensor_outage(
    config: MunicipalityConfig,
    start: datetime,
    duration: timedelta,
    *,
    count: int = 1,
    fraction: float | None = None,
    sensor_ids: Sequence[str] | None = None,
    avoid_kinds: Iterable[SensorKind] = (SensorKind.RIVER_LEVEL, SensorKind.PM10, SensorKind.PM25),
    seed: int = 0,
) -> SensorOutage:
    """Silence ``count`` sensors (or ``fraction`` of them), picked by ``seed``, preferring kinds
    no other scenario drives."""
    if sensor_ids is None:
        avoid = set(avoid_kinds)
        pool = sorted(config.sensors, key=lambda s: (s.kind in avoid, s.id))
        free = [s for s in pool if s.kind not in avoid] or pool
        n = math.ceil(fraction * len(config.sensors)) if fraction is not None else count
        ranked = sorted(free, key=lambda s: stable_hash(seed, "outage", s.id))
        chosen = ranked[: max(0, n)]
        if len(chosen) < n:
            chosen += [s for s in pool if s not in chosen][: n - len(chosen)]
        sensor_ids = [s.id for s in chosen]
    if not sensor_ids:
        raise ScenarioError("outage: no sensors to silence")
    return SensorOutage(start, start + duration, _known_sensors(config, sensor_ids))
