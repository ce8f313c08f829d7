"""The rule engine: evaluates a municipality's rules on readings, events and the passing of time.

Pure and incremental: no I/O and no clock of its own (every time is passed in, timezone-aware
UTC). Its state is small, JSON-serialisable and keyed ``f"{rule_id}|{subject}"``; the ingest
pipeline stores what :meth:`RuleEngine.take_dirty_state` returns in the same transaction as the
readings that changed it, and after a restart :meth:`RuleEngine.restore_state` puts the engine
back exactly where it stopped.

What is stored under which key, and how the committed readings complete it on restore, is in
domain/engine_restore.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from cityops.domain.engine_events import CameraRuleEval, CorrelationEval, Geo
from cityops.domain.engine_restore import (
    ReadingsSince,
    finish_sensors,
    last_evaluated,
    reset_sensors,
    restore_entry,
    value_of,
)
from cityops.domain.engine_sensors import (
    RateEval,
    SensorEval,
    SensorTrack,
    SilenceEval,
    make_sensor_eval,
)
from cityops.domain.engine_support import JsonValue, epoch
from cityops.domain.entities import Camera, LonLat, Municipality, Sensor, SensorState
from cityops.domain.observations import Event, EventSource, Reading
from cityops.domain.rules import (
    CameraEventRule,
    RateOfChangeRule,
    Rule,
    SilenceRule,
    ThresholdRule,
    Trigger,
)
from cityops.domain.staleness import DEFAULT_STALE_FACTOR, Staleness

__all__ = ["JsonValue", "ReadingsSince", "RuleEngine", "SensorState"]


class RuleEngine:
    """All rules of one municipality, evaluated incrementally in memory.

    Rules, sensors and cameras of other municipalities are ignored, and so are readings and
    events of other municipalities, of sensors no rule watches and of kinds no rule names.
    """

    def __init__(
        self,
        municipality: Municipality,
        rules: Sequence[Rule],
        sensors: Sequence[Sensor],
        cameras: Sequence[Camera],
        *,
        stale_factor: float = DEFAULT_STALE_FACTOR,
    ) -> None:
        self.municipality = municipality
        self._mid = municipality.id
        own_sensors: dict[str, Sensor] = {}
        for sensor in sensors:
            if sensor.municipality == self._mid:
                own_sensors.setdefault(sensor.id, sensor)
        self._cameras: dict[str, Camera] = {}
        for camera in cameras:
            if camera.municipality == self._mid:
                self._cameras.setdefault(camera.id, camera)
        self.staleness = Staleness(own_sensors.values(), stale_factor)
        """Sensors stale without any rule; the caller restores their last receive times."""
        origin = _origin(municipality, self._cameras.values(), own_sensors.values())
        self._geo = Geo(origin)
        tz = ZoneInfo(municipality.timezone)
        self._dirty: set[str] = set()
        """Changed state keys; one set for the engine's life (sensor tracks hold it)."""

        self._tracks: dict[str, SensorTrack] = {}
        self._evals: dict[str, SensorEval] = {}
        self._silences: list[SilenceEval] = []
        self._rates: list[RateEval] = []
        self._rules_by_sensor: dict[str, list[Rule]] = {}
        self._camera_rules: dict[str, list[CameraRuleEval]] = {}
        self._correlation_rules: dict[str, list[CorrelationEval]] = {}
        self._correlations: list[CorrelationEval] = []
        rule_ids: set[str] = set()
        for rule in rules:
            if rule.municipality != self._mid:
                continue
            if rule.id in rule_ids:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            rule_ids.add(rule.id)
            if isinstance(rule, ThresholdRule | RateOfChangeRule | SilenceRule):
                for sensor in own_sensors.values():
                    if rule.sensors.matches(sensor):
                        self._watch(rule, sensor)
            elif isinstance(rule, CameraEventRule):
                camera_eval = CameraRuleEval(rule, self._cameras, tz)
                for kind in dict.fromkeys(rule.kinds):
                    self._camera_rules.setdefault(kind, []).append(camera_eval)
            else:
                correlation = CorrelationEval(rule, self._geo)
                self._correlations.append(correlation)
                for kind in dict.fromkeys(rule.kinds):
                    self._correlation_rules.setdefault(kind, []).append(correlation)
        # longest prefix first, so a state key finds its own rule even if one id prefixes another
        self._correlations.sort(key=lambda c: len(c.prefix), reverse=True)

    def _watch(self, rule: ThresholdRule | RateOfChangeRule | SilenceRule, sensor: Sensor) -> None:
        track = self._tracks.get(sensor.id)
        if track is None:
            track = self._tracks[sensor.id] = SensorTrack(sensor, self._dirty)
        evaluator = make_sensor_eval(rule, track)
        track.evaluators.append(evaluator)
        self._evals[evaluator.key] = evaluator
        self._rules_by_sensor.setdefault(sensor.id, []).append(rule)
        if isinstance(evaluator, SilenceEval):
            self._silences.append(evaluator)
        elif isinstance(evaluator, RateEval):
            self._rates.append(evaluator)

    # --- input -----------------------------------------------------------------------------

    def on_reading(self, reading: Reading, received_at: datetime) -> list[Trigger]:
        """Evaluate one reading; one no newer than the sensor's last evaluated one is ignored."""
        value = reading.value
        if reading.municipality != self._mid or not math.isfinite(value):
            return []
        self.staleness.received(reading.sensor_id, received_at)
        track = self._tracks.get(reading.sensor_id)
        if track is None:
            return []
        at = reading.ts
        ts = epoch(at)
        last = track.last_ts
        if last is not None and ts <= last:
            for evaluator in track.evaluators:
                evaluator.on_late(ts)
            return []
        track.last_ts = ts
        triggers: list[Trigger] = []
        for evaluator in track.evaluators:
            trigger = evaluator.on_reading(ts, value, at, received_at)
            if trigger is not None:
                triggers.append(trigger)
        return triggers

    def on_event(self, event: Event) -> list[Trigger]:
        if event.municipality != self._mid:
            return []
        camera_rules = self._camera_rules.get(event.kind)
        correlations = self._correlation_rules.get(event.kind)
        if not camera_rules and not correlations:
            return []
        ts = epoch(event.ts)
        triggers: list[Trigger] = []
        for camera_rule in camera_rules or ():
            trigger = camera_rule.on_event(event, ts)
            if trigger is not None:
                triggers.append(trigger)
        if correlations:
            position = event.position
            if position is None and event.source is EventSource.CAMERA:
                camera = self._cameras.get(event.source_id)
                position = None if camera is None else camera.position
            if position is not None:
                for correlation in correlations:
                    trigger = correlation.on_event(event, ts, position, self._dirty)
                    if trigger is not None:
                        triggers.append(trigger)
        return triggers

    def tick(self, now: datetime) -> list[Trigger]:
        """Time-driven rules: sensors gone silent (raised once, by receive time)."""
        now_ts = epoch(now)
        triggers: list[Trigger] = []
        for silence in self._silences:
            changed, trigger = silence.tick(now_ts, now)
            if changed:
                self._dirty.add(silence.key)
            if trigger is not None:
                triggers.append(trigger)
        for correlation in self._correlations:
            correlation.tick(now_ts, self._dirty)
        return triggers

    # --- queries ---------------------------------------------------------------------------

    def stale_sensors(self, now: datetime) -> list[str]:
        """Sensors that became stale by ``now`` (see domain/staleness.py)."""
        return self.staleness.tick(now)

    def sensor_state(self, sensor_id: str) -> SensorState:
        """alarm, else offline (a silence rule), else stale, else ok once anything arrived."""
        track = self._tracks.get(sensor_id)
        if track is not None:  # loops, not any(): once per sensor of every batch
            offline = False
            for evaluator in track.evaluators:
                if evaluator.in_alarm:
                    return SensorState.ALARM
                offline = offline or evaluator.offline
            if offline:
                return SensorState.OFFLINE
        if self.staleness.is_stale(sensor_id):
            return SensorState.STALE
        seen = (track is not None and track.last_ts is not None) or self.staleness.has_received(
            sensor_id
        )
        return SensorState.OK if seen else SensorState.UNKNOWN

    def sensor_rules(self, sensor_id: str) -> list[Rule]:
        """The threshold, rate-of-change and silence rules that watch this sensor."""
        return list(self._rules_by_sensor.get(sensor_id, ()))

    # --- state -----------------------------------------------------------------------------

    def take_dirty_state(self) -> dict[str, JsonValue | None]:
        """Entries changed since the last call (None: delete the entry); clears the dirty set."""
        dirty = sorted(self._dirty)
        self._dirty.clear()
        return {key: value_of(self._evals, self._correlations, key) for key in dirty}

    def export_state(self) -> dict[str, JsonValue]:
        """All state entries: what the store holds once every dirty entry has been written."""
        state: dict[str, JsonValue] = {}
        for key, evaluator in self._evals.items():
            value = evaluator.to_json()
            if value is not None:
                state[key] = value
        for correlation in self._correlations:
            state.update(correlation.export())
        return state

    def last_evaluated(self) -> dict[str, datetime]:
        """The newest reading time evaluated of each watched sensor that had one (what the
        store's per-sensor mark holds once the batch that evaluated it is committed)."""
        return last_evaluated(self._tracks)

    def restore_state(
        self,
        state: Mapping[str, JsonValue],
        evaluated: Mapping[str, datetime],
        readings: ReadingsSince | None = None,
        received: Mapping[str, datetime] | None = None,
    ) -> None:
        """Replace the whole state with ``state`` (as stored from take_dirty_state/export_state)
        and ``evaluated`` (each sensor's newest reading time evaluated, as committed: the sensors
        table's ``last_ts``; a reading no newer is ignored, as before the stop). ``readings``
        (the stored readings, rebuilding rate-of-change windows) and ``received`` (the receive
        time of each sensor's reading at ``evaluated``, for silence rules) give what readings
        evaluated after an entry changed in it: domain/engine_restore.py (a ValueError when one
        is needed and not given; none is after export_state()).

        Entries of rules or sensors that no longer exist, and entries that cannot be read, are
        skipped and marked dirty, so the next take_dirty_state() deletes (or rewrites) them.
        Staleness starts over too: its receive times are restored with ``staleness.restore``.
        """
        reset_sensors(self._tracks)
        self.staleness.reset()  # receive times come from the sensors table, not rule state
        self._geo.reset()
        for correlation in self._correlations:
            correlation.reset()
        self._dirty.clear()
        for key, value in state.items():
            if not isinstance(key, str):
                continue
            try:
                known = restore_entry(self._evals, self._correlations, self._geo, key, value)
            except (ValueError, TypeError, AttributeError, OverflowError):
                known = False
            if not known:
                self._dirty.add(key)
        for correlation in self._correlations:
            correlation.finish_restore(self._dirty)
        finish_sensors(self._tracks, self._silences, self._rates, evaluated, received, readings)


def _origin(
    municipality: Municipality, cameras: Iterable[Camera], sensors: Iterable[Sensor]
) -> LonLat | None:
    """The origin of the metric frame: the centre, else the first camera, else the first sensor."""
    if municipality.center is not None:
        return municipality.center
    first = next(iter(cameras), None) or next(iter(sensors), None)
    return None if first is None else first.position
