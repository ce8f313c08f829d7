"""Camera scenarios (a traffic accident at a crossing, a night intrusion at a school) and the
geometry that places them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo
from itertools import combinations
from zoneinfo import ZoneInfo

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Camera, LonLat, Sensor
from cityops.domain.geo import LocalProjection, projection_for
from cityops.domain.visibility import cameras_seeing
from cityops.sim.base import ScenarioError, SimEvent
from cityops.sim.signals import stable_hash, uniform

NIGHT_START = time(22, 0)
NIGHT_END = time(6, 0)


def is_night(ts: datetime, tz: tzinfo) -> bool:
    """Whether ``ts`` falls between 22:00 and 06:00 local time."""
    local = ts.astimezone(tz).time()
    return local >= NIGHT_START or local < NIGHT_END


@dataclass(frozen=True, slots=True)
class CameraPair:
    """Two cameras that both see the point midway between them (a crossing they cover)."""

    cameras: tuple[str, str]
    midpoint: LonLat
    distance_m: float


def municipality_projection(config: MunicipalityConfig) -> LocalProjection:
    """The municipality's metric projection, centred on its centre (or its cameras' mean)."""
    centre = config.municipality.center
    if centre is None:
        points = [c.position for c in config.cameras] + [s.position for s in config.sensors]
        if not points:
            raise ScenarioError("the municipality has no centre, cameras or sensors")
        lon = sum(p.lon for p in points) / len(points)
        lat = sum(p.lat for p in points) / len(points)
        centre = LonLat(round(lon, 6), round(lat, 6))
    return projection_for(centre)


def crossing_pairs(config: MunicipalityConfig) -> list[CameraPair]:
    """Every pair of cameras whose view sectors both contain the midpoint between them,
    closest pair first."""
    projection = municipality_projection(config) if config.cameras else None
    if projection is None:
        return []
    pairs: list[CameraPair] = []
    cameras: list[Camera] = sorted(config.cameras, key=lambda c: c.id)
    for a, b in combinations(cameras, 2):
        ax, ay = projection.to_xy(a.position)
        bx, by = projection.to_xy(b.position)
        midpoint = projection.to_lonlat((ax + bx) / 2.0, (ay + by) / 2.0)
        seen = {v.camera_id for v in cameras_seeing(midpoint, (a, b), projection)}
        if seen == {a.id, b.id}:
            pairs.append(CameraPair((a.id, b.id), midpoint, math.hypot(bx - ax, by - ay)))
    pairs.sort(key=lambda p: (p.distance_m, p.cameras))
    return pairs


# cameras -------------------------------------------------------------------------------------

# (seconds after the start, which camera of the pair, kind, confidence)
_ACCIDENT_SCRIPT: tuple[tuple[float, int, str, float], ...] = (
    (0.0, 0, "collision", 0.88),
    (7.0, 1, "collision", 0.82),
    (21.0, 0, "stopped_vehicle", 0.91),
    (29.0, 1, "stopped_vehicle", 0.87),
    (46.0, 0, "person", 0.84),
    (53.0, 1, "person", 0.8),
    (74.0, 0, "person", 0.86),
    (96.0, 0, "crowd", 0.76),
    (108.0, 1, "crowd", 0.73),
)


def _accident_events(
    pair: CameraPair, start: datetime, key: int, attributes: Mapping[str, str]
) -> list[SimEvent]:
    out = []
    for i, (offset, which, kind, confidence) in enumerate(_ACCIDENT_SCRIPT):
        jitter = 4.0 * uniform(key, i)
        out.append(
            SimEvent(
                camera_id=pair.cameras[which],
                kind=kind,
                ts=start + timedelta(seconds=offset + jitter),
                confidence=round(min(0.99, confidence + 0.05 * (uniform(key, 100 + i) - 0.5)), 2),
                position=pair.midpoint,
                attributes={**attributes, "track": str(1 + i % 3)},
            )
        )
    return out


def _window(events: Iterable[SimEvent], start: datetime, end: datetime) -> list[SimEvent]:
    return [e for e in events if start <= e.ts < end]


@dataclass(frozen=True, slots=True)
class AccidentScenario:
    """A collision at a crossing, seen by two cameras within about two minutes."""

    start: datetime
    pair: CameraPair
    seed: int = 0
    name: str = "accident"

    @property
    def end(self) -> datetime:
        return self.start + timedelta(seconds=_ACCIDENT_SCRIPT[-1][0] + 5.0)

    def all_events(self) -> list[SimEvent]:
        key = stable_hash(self.seed, "accident", self.start.isoformat())
        return _accident_events(self.pair, self.start, key, {"scenario": self.name})

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        if end <= self.start or start >= self.end:
            return ()
        return _window(self.all_events(), start, end)


@dataclass(frozen=True, slots=True)
class RecurringAccidentScenario:
    """An accident every ``every`` from ``start`` on, each at a randomly chosen camera pair."""

    start: datetime
    pairs: tuple[CameraPair, ...]
    every: timedelta = timedelta(minutes=20)
    seed: int = 0
    name: str = "accident-live"

    @property
    def end(self) -> datetime | None:
        return None

    def occurrence(self, n: int) -> AccidentScenario:
        key = stable_hash(self.seed, "recurring", n)
        pair = self.pairs[int(uniform(key, 0) * len(self.pairs))]
        return AccidentScenario(self.start + self.every * n, pair, self.seed, f"{self.name}-{n}")

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        if end <= self.start:
            return []
        every = self.every.total_seconds()
        first = max(0, math.floor((start - self.start).total_seconds() / every) - 1)
        last = math.floor((end - self.start).total_seconds() / every)
        out: list[SimEvent] = []
        for n in range(first, last + 1):
            out.extend(self.occurrence(n).events(start, end))
        return out


@dataclass(frozen=True, slots=True)
class IntrusionScenario:
    """Someone in a school yard at night: ``person`` events in ``zone`` over a few minutes."""

    start: datetime
    camera_id: str
    zone: str = "school-yard"
    duration: timedelta = timedelta(minutes=11)
    seed: int = 0
    name: str = "intrusion"

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def all_events(self) -> list[SimEvent]:
        """``person`` (and ``loitering``) detections spread so that no three fall within five
        minutes: one intruder must not look like a crowd or an accident to correlation rules."""
        key = stable_hash(self.seed, "intrusion", self.start.isoformat())
        span = self.duration.total_seconds()
        script = ((0.0, "person"), (0.25, "loitering"), (0.5, "person"), (1.0, "person"))
        return [
            SimEvent(
                camera_id=self.camera_id,
                kind=kind,
                ts=self.start
                + timedelta(seconds=min(span - 1.0, at * span + 20.0 * uniform(key, i))),
                zone=self.zone,
                confidence=round(0.78 + 0.15 * uniform(key, 50 + i), 2),
                attributes={"scenario": self.name, "track": "1"},
            )
            for i, (at, kind) in enumerate(script)
        ]

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        if end <= self.start or start >= self.end:
            return ()
        return _window(self.all_events(), start, end)


# factories -----------------------------------------------------------------------------------


def accident(
    config: MunicipalityConfig,
    start: datetime,
    *,
    cameras: tuple[str, str] | None = None,
    seed: int = 0,
) -> AccidentScenario:
    """An accident seen by ``cameras``, or by the closest pair of cameras that both see the
    midpoint between them."""
    pairs = crossing_pairs(config)
    if cameras is not None:
        wanted = {cameras, (cameras[1], cameras[0])}
        chosen = [p for p in pairs if p.cameras in wanted]
        if not chosen:
            missing = [c for c in cameras if config.camera(c) is None]
            why = f"unknown cameras {missing}" if missing else "they do not both see a midpoint"
            raise ScenarioError(f"accident: cameras {cameras[0]} and {cameras[1]}: {why}")
        pair = chosen[0]
        if pair.cameras != cameras:
            pair = CameraPair(cameras, pair.midpoint, pair.distance_m)
        return AccidentScenario(start, pair, seed)
    if not pairs:
        raise ScenarioError("accident: no two cameras both see the midpoint between them")
    return AccidentScenario(start, pairs[0], seed)


def recurring_accidents(
    config: MunicipalityConfig,
    start: datetime,
    *,
    every: timedelta = timedelta(minutes=20),
    seed: int = 0,
) -> RecurringAccidentScenario:
    pairs = tuple(crossing_pairs(config))
    if not pairs:
        raise ScenarioError("accident: no two cameras both see the midpoint between them")
    return RecurringAccidentScenario(start, pairs, every, seed)


def _zone_camera(config: MunicipalityConfig, zone: str, camera_id: str | None) -> Camera:
    if camera_id is not None:
        camera = config.camera(camera_id)
        if camera is None or zone not in camera.zones:
            raise ScenarioError(f"intrusion: camera {camera_id} has no zone {zone!r}")
        return camera
    with_zone = sorted((c for c in config.cameras if zone in c.zones), key=lambda c: c.id)
    if not with_zone:
        raise ScenarioError(f"intrusion: no camera has a zone {zone!r}")
    return with_zone[0]


def intrusion(
    config: MunicipalityConfig,
    *,
    now: datetime,
    backfill: timedelta,
    local_time: time = time(2, 30),
    zone: str = "school-yard",
    camera: str | None = None,
    seed: int = 0,
) -> IntrusionScenario:
    """A night intrusion at the most recent ``local_time`` (22:00-06:00 local) that lies in the
    window ``[now - backfill, now]``; ScenarioError when the window does not reach that night."""
    cam = _zone_camera(config, zone, camera)
    tz = ZoneInfo(config.municipality.timezone)
    duration = timedelta(minutes=11)
    latest = now - duration - timedelta(minutes=1)
    local = latest.astimezone(tz)
    start = datetime.combine(local.date(), local_time, tz)
    if start > local:
        start = datetime.combine(local.date() - timedelta(days=1), local_time, tz)
    scenario = IntrusionScenario(start.astimezone(now.tzinfo), cam.id, zone, duration, seed)
    if not (is_night(scenario.start, tz) and is_night(scenario.end, tz)):
        raise ScenarioError(f"intrusion: {local_time} +{duration} is not between 22:00 and 06:00")
    if scenario.start < now - backfill:
        needed = now - scenario.start
        raise ScenarioError(
            f"intrusion: needs a backfill reaching the night (at least {needed}, got {backfill})"
        )
    return scenario
