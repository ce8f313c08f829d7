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

    Each evaluator adds its key to ``dirty`` itself, only when its entry must be rewritten (its
    own state changed), never merely because a reading was evaluated. What moves with every
    reading is the store's per-sensor mark (the sensors table's ``last_ts`` and
    ``last_received_at``, written with every batch), given back to ``RuleEngine.restore_state``.
    """

    __slots__ = ("dirty", "evaluators", "last_ts", "sensor")

    def __init__(self, sensor: Sensor, dirty: set[str]) -> None:
        self.sensor = sensor
        self.dirty = dirty
        self.last_ts: float | None = None
        self.evaluators: list[SensorEval] = []


class SensorEval:
    """The state of one sensor rule for one sensor."""

    __slots__ = ("key", "rule", "sensor", "track")

    rule: SensorRule

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
