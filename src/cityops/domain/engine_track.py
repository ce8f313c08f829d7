"""What every sensor rule's evaluator shares: the watched sensor's track and the evaluator base.

Times inside are float seconds since the Unix epoch: cheap to compare on the hot path and exact
through a JSON round trip. Each evaluator owns the state stored under ``f"{rule_id}|{sensor_id}"``;
the evaluators themselves are in engine_threshold.py, engine_rate.py and engine_silence.py.
"""

from __future__ import annotations

from datetime import datetime

from cityops.domain.engine_support import JsonValue
from cityops.domain.entities import Sensor
from cityops.domain.rules import (
    RateOfChangeRule,
    SilenceRule,
    ThresholdRule,
    Trigger,
    TriggerKind,
)

SensorRule = ThresholdRule | RateOfChangeRule | SilenceRule


class SensorTrack:
    """One watched sensor: the newest reading time evaluated and the rules that watch it.

    ``keys`` are the state keys of the evaluators whose state moves with every reading
    (silence: the receive time); the others (threshold, rate of change) add their key to
    ``dirty`` themselves, only when their entry must be rewritten. The newest reading time
    evaluated is not part of any entry that is not rewritten anyway: the store's per-sensor mark
    (the sensors table's ``last_ts``, written with every batch) gives it back
    (``RuleEngine.restore_state``).
    """

    __slots__ = ("dirty", "evaluators", "keys", "last_ts", "sensor")

    def __init__(self, sensor: Sensor, dirty: set[str]) -> None:
        self.sensor = sensor
        self.dirty = dirty
        self.last_ts: float | None = None
        self.evaluators: list[SensorEval] = []
        self.keys: tuple[str, ...] = ()

    def add(self, evaluator: SensorEval) -> None:
        self.evaluators.append(evaluator)
        if evaluator.moves_with_readings:
            self.keys = (*self.keys, evaluator.key)


class SensorEval:
    """The state of one sensor rule for one sensor."""

    __slots__ = ("key", "rule", "sensor", "track")

    rule: SensorRule
    moves_with_readings = True
    """Its state changes with every reading evaluated (so it is rewritten with each)."""

    def __init__(self, rule: SensorRule, track: SensorTrack) -> None:
        self.rule = rule
        self.track = track
        self.sensor = track.sensor
        self.key = f"{rule.id}|{track.sensor.id}"

    @property
    def in_alarm(self) -> bool:
        return False

    @property
    def offline(self) -> bool:
        return False

    def on_reading(
        self, ts: float, value: float, at: datetime, received_at: datetime
    ) -> Trigger | None:
        raise NotImplementedError

    def on_late(self, ts: float) -> None:
        """A reading of the sensor at ``ts``, no newer than the newest evaluated: not evaluated."""

    def reset(self) -> None:
        raise NotImplementedError

    def to_json(self) -> JsonValue:
        """The state to store, or None when there is nothing worth keeping."""
        raise NotImplementedError

    def restore(self, value: JsonValue) -> float | None:
        """Take a stored state (raises BadStateError); returns the reading time it had seen."""
        raise NotImplementedError

    def _trigger(self, kind: TriggerKind, at: datetime, text: str, value: float | None) -> Trigger:
        return Trigger(
            rule_id=self.rule.id,
            municipality=self.rule.municipality,
            kind=kind,
            at=at,
            dedup_key=self.key,
            subject=self.sensor.id,
            outcome=self.rule.outcome,
            text=text,
            location=self.sensor.position,
            value=value,
        )
