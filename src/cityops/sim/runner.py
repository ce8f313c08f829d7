"""The simulator loop: baseline signals + scenarios -> readings and events -> publisher.

``Simulator.step()`` produces everything due between the last step and the clock's current
simulated time, in chunks, and publishes it; ``run()`` repeats that until told to stop. Progress
goes to a plain callback (the CLI renders it), so this package needs neither Rich nor Typer.
"""

from __future__ import annotations

import math
import threading
import time as _time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Sensor
from cityops.domain.observations import Event, EventSource, Reading
from cityops.domain.scenes import SceneKind
from cityops.sim.base import Scenario, ScenarioError
from cityops.sim.clock import SimClock, WallClock, utc_now
from cityops.sim.publisher import Publisher
from cityops.sim.rendered import rendered as rendered_scripts
from cityops.sim.scenarios import (
    accident,
    flood,
    intrusion,
    pollution,
    recurring_accidents,
    sensor_outage,
)
from cityops.sim.signals import SignalModel, clamp, sensor_interval_s, stable_hash, uniform

DEMO_BACKFILL = timedelta(hours=26)
DEMO_SPEED = 600.0
"""26 h of backfill then take about 2.6 minutes to catch up."""


@dataclass(frozen=True, slots=True)
class SimProgress:
    sim_time: datetime
    wall_time: datetime
    live: bool
    """Simulated time has caught up with the wall clock."""
    readings: int
    events: int
    chunk_readings: int
    chunk_events: int
    active: tuple[str, ...]
    """Scenarios under way at ``sim_time``."""


ProgressCallback = Callable[[SimProgress], None]


class Simulator:
    """Publishes a municipality's simulated sensors and scenario events, in simulated time."""

    def __init__(
        self,
        config: MunicipalityConfig,
        publisher: Publisher,
        clock: SimClock,
        scenarios: Sequence[Scenario] = (),
        seed: int = 0,
        *,
        progress: ProgressCallback | None = None,
        run_id: str | None = None,
        chunk: timedelta = timedelta(minutes=15),
        tick_s: float = 1.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.config = config
        self.municipality = config.municipality.id
        self.publisher = publisher
        self.clock = clock
        self.scenarios = tuple(scenarios)
        self.seed = seed
        self.signals = SignalModel(seed, config.municipality.timezone)
        self.progress = progress
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.chunk = chunk
        self.tick_s = tick_s
        self._sleep = sleep
        self.cursor = clock.start
        """Everything before this simulated time has been published."""
        self.readings_published = 0
        self.events_published = 0
        self._event_seq = 0
        self._due = {s.id: self._first_due(s, clock.start) for s in config.sensors}

    def _first_due(self, sensor: Sensor, start: datetime) -> float:
        """The first reading time >= start on the sensor's own grid (interval + fixed phase)."""
        interval = sensor_interval_s(sensor)
        phase = math.floor(uniform(stable_hash(self.seed, "phase", sensor.id), 0) * interval)
        k = math.ceil((start.timestamp() - phase) / interval)
        return k * interval + phase

    def active_scenarios(self, at: datetime) -> tuple[str, ...]:
        return tuple(
            s.name for s in self.scenarios if s.start <= at and (s.end is None or at < s.end)
        )

    # producing -----------------------------------------------------------------------------

    def readings_between(self, start: datetime, end: datetime) -> list[Reading]:
        """Every reading due in [start, end), scenarios applied, in time order."""
        out: list[Reading] = []
        end_s = end.timestamp()
        for sensor in self.config.sensors:
            interval = sensor_interval_s(sensor)
            due = self._due[sensor.id]
            while due < end_s:
                ts = datetime.fromtimestamp(due, UTC)
                due += interval
                if ts < start:
                    continue
                value = self._value(sensor, ts)
                if value is not None:
                    out.append(Reading(self.municipality, sensor.id, ts, value))
            self._due[sensor.id] = due
        out.sort(key=lambda r: (r.ts, r.sensor_id))
        return out

    def _value(self, sensor: Sensor, ts: datetime) -> float | None:
        value: float | None = self.signals.value(sensor, ts)
        for scenario in self.scenarios:
            if value is None:
                return None
            value = scenario.adjust(sensor, ts, value)
        return None if value is None else clamp(sensor, value)

    def events_between(self, start: datetime, end: datetime) -> list[Event]:
        """Every scenario event in [start, end), with run-unique ids, in time order."""
        planned = [e for s in self.scenarios for e in s.events(start, end)]
        planned.sort(key=lambda e: (e.ts, e.camera_id, e.kind))
        out: list[Event] = []
        for e in planned:
            self._event_seq += 1
            out.append(
                Event(
                    municipality=self.municipality,
                    event_id=f"sim-{self.run_id}-{self._event_seq:06d}",
                    source=EventSource.CAMERA,
                    source_id=e.camera_id,
                    kind=e.kind,
                    ts=e.ts,
                    position=e.position,
                    zone=e.zone,
                    confidence=e.confidence,
                    attributes=e.attributes,
                )
            )
        return out

    # running -------------------------------------------------------------------------------

    def step(self, until: datetime | None = None) -> SimProgress:
        """Publish everything due up to the clock's now (or ``until``, if earlier); wait for
        the broker's acknowledgements; report progress once per chunk."""
        target = self.clock.now()
        if until is not None:
            target = min(target, until)
        report: SimProgress | None = None
        while self.cursor < target or report is None:
            chunk_end = min(self.cursor + self.chunk, target)
            readings = self.readings_between(self.cursor, chunk_end)
            events = self.events_between(self.cursor, chunk_end)
            if readings:
                self.publisher.publish_readings(self.municipality, readings)
            if events:
                self.publisher.publish_events(self.municipality, events)
            self.readings_published += len(readings)
            self.events_published += len(events)
            self.cursor = max(self.cursor, chunk_end)
            report = self._report(target, len(readings), len(events))
            if self.progress is not None:
                self.progress(report)
        self.publisher.flush()
        return report

    def _report(self, target: datetime, chunk_readings: int, chunk_events: int) -> SimProgress:
        return SimProgress(
            sim_time=self.cursor,
            wall_time=self.clock.wall_now(),
            live=self.cursor >= target and self.clock.caught_up(),
            readings=self.readings_published,
            events=self.events_published,
            chunk_readings=chunk_readings,
            chunk_events=chunk_events,
            active=self.active_scenarios(self.cursor),
        )

    def run(
        self, until: datetime | None = None, stop_event: threading.Event | None = None
    ) -> SimProgress:
        """Step every ``tick_s`` seconds until simulated time reaches ``until`` (None: until
        ``stop_event`` is set)."""
        while True:
            report = self.step(until)
            if until is not None and self.cursor >= until:
                return report
            if stop_event is not None and stop_event.is_set():
                return report
            if self._sleep is not None:
                self._sleep(self.tick_s)
            elif stop_event is not None:
                stop_event.wait(self.tick_s)
            else:
                _time.sleep(self.tick_s)


# the demo ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DemoPlan:
    now: datetime
    backfill: timedelta
    scenarios: tuple[Scenario, ...]
    notes: tuple[str, ...] = ()
    """Scenarios left out, and why."""

    def summary(self, timezone: str = "UTC") -> list[str]:
        """One line per scenario with its local start and end."""
        tz = ZoneInfo(timezone)
        lines = []
        for s in self.scenarios:
            start = s.start.astimezone(tz).strftime("%a %H:%M")
            end = s.end
            until = "on-going" if end is None else end.astimezone(tz).strftime("%a %H:%M")
            lines.append(f"{s.name}: {start} - {until}")
        return lines + [f"skipped: {note}" for note in self.notes]


def most_recent_local(now: datetime, timezone: str, at: time) -> datetime:
    """The latest instant <= ``now`` whose local wall time is ``at``."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), at, tz)
    if candidate > local:
        candidate = datetime.combine(local.date() - timedelta(days=1), at, tz)
    return candidate.astimezone(UTC)


def demo_plan(
    config: MunicipalityConfig,
    now: datetime,
    *,
    backfill: timedelta = DEMO_BACKFILL,
    seed: int = 0,
    silent_sensors: int = 1,
    silent_fraction: float | None = None,
    live_accident_every: timedelta | None = timedelta(minutes=20),
    rendered: bool = False,
) -> DemoPlan:
    """The demo's scenarios in the ``backfill`` window before ``now``: a night intrusion at the
    latest 02:30 local, a pollution episode from the latest 07:30 local, a flood ending an hour
    before now, an accident half an hour before now, one sensor silent from 40 minutes before now
    until 15 minutes after, and from then on an accident every 20 minutes.

    ``rendered``: the video worker analyses the cameras' rendered scenes (``demo_stream_url``),
    so from ``now`` on the accidents and intruders are the scenes' scripts, seen in the pixels:
    the simulator publishes no events for them, nor the counter sensors the cameras feed. The
    backfill stays published (no worker watches the past)."""
    tz = config.municipality.timezone
    scenarios: list[Scenario] = []
    notes: list[str] = []

    def add(build: Callable[[], Scenario]) -> None:
        try:
            scenarios.append(build())
        except ScenarioError as err:
            notes.append(str(err))

    add(lambda: intrusion(config, now=now, backfill=backfill, local_time=time(2, 30), seed=seed))
    add(lambda: pollution(config, most_recent_local(now, tz, time(7, 30)), seed=seed))

    def placed_flood() -> Scenario:
        draft = flood(config, now)
        start = now - timedelta(hours=1) - (draft.end - draft.start)
        return flood(config, start, gauges=draft.gauges)

    add(placed_flood)
    add(lambda: accident(config, now - timedelta(minutes=30), seed=seed))
    if silent_sensors > 0 or silent_fraction:
        add(
            lambda: sensor_outage(
                config,
                now - timedelta(minutes=40),
                timedelta(minutes=55),
                count=silent_sensors,
                fraction=silent_fraction,
                seed=seed,
            )
        )
    if rendered:
        add(lambda: rendered_scripts(config, now, SceneKind.CROSSING, name="accident-rendered"))
        add(lambda: rendered_scripts(config, now, SceneKind.SCHOOLYARD, name="intrusion-rendered"))
    elif live_accident_every is not None:
        every = live_accident_every
        add(lambda: recurring_accidents(config, now + every, every=every, seed=seed))
    scenarios.sort(key=lambda s: s.start)
    return DemoPlan(now, backfill, tuple(scenarios), tuple(notes))


def demo_simulator(
    config: MunicipalityConfig,
    publisher: Publisher,
    *,
    speed: float = DEMO_SPEED,
    backfill: timedelta = DEMO_BACKFILL,
    seed: int = 0,
    wall: WallClock = utc_now,
    progress: ProgressCallback | None = None,
    rendered: bool = False,
) -> tuple[Simulator, DemoPlan]:
    """A simulator for ``cityops simulate``: the demo plan on a clock that catches up at
    ``speed`` x real time (``rendered``: see ``demo_plan``)."""
    clock = SimClock(backfill=backfill, speed=speed, wall=wall)
    plan = demo_plan(config, clock.wall_start, backfill=backfill, seed=seed, rendered=rendered)
    return Simulator(config, publisher, clock, plan.scenarios, seed, progress=progress), plan
