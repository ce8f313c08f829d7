"""The threshold rule's evaluator: above (or below) a limit, held for a while, with hysteresis."""

from __future__ import annotations

from datetime import datetime

from cityops.domain.engine_support import (
    JsonValue,
    as_bool,
    as_dict,
    as_opt_num,
    fmt_duration,
    fmt_num,
)
from cityops.domain.engine_track import SensorEval, SensorTrack
from cityops.domain.rules import Comparison, ThresholdRule, Trigger, TriggerKind


class ThresholdEval(SensorEval):
    __slots__ = (
        "_above",
        "_clear_for_s",
        "_clear_value",
        "_for_s",
        "_limit",
        "active",
        "clear_since",
        "pending_since",
    )

    rule: ThresholdRule

    def __init__(self, rule: ThresholdRule, track: SensorTrack) -> None:
        super().__init__(rule, track)
        self._above = rule.op is Comparison.ABOVE
        self._limit = rule.value
        self._for_s = rule.for_s
        self._clear_for_s = rule.clear_for_s
        clear = rule.value if rule.clear_value is None else rule.clear_value
        # A clear value on the wrong side of the limit would let the rule clear while it still
        # holds (and flap): it is held to the limit.
        self._clear_value = min(clear, rule.value) if self._above else max(clear, rule.value)
        self.reset()

    def reset(self) -> None:
        self.pending_since: float | None = None
        self.active = False
        self.clear_since: float | None = None

    @property
    def in_alarm(self) -> bool:
        return self.active

    def on_reading(
        self, ts: float, value: float, at: datetime, received_at: datetime
    ) -> Trigger | None:
        if not self.active:
            if value > self._limit if self._above else value < self._limit:
                if self.pending_since is None:
                    self.pending_since = ts
                    self.track.dirty.add(self.key)
                held = ts - self.pending_since
                if held >= self._for_s:
                    self.active = True
                    self.pending_since = None
                    self.clear_since = None
                    self.track.dirty.add(self.key)
                    return self._raised(at, value, held)
            elif self.pending_since is not None:
                self.pending_since = None
                self.track.dirty.add(self.key)
            return None
        if value < self._clear_value if self._above else value > self._clear_value:
            if self.clear_since is None:
                self.clear_since = ts
                self.track.dirty.add(self.key)
            held = ts - self.clear_since
            if held >= self._clear_for_s:
                self.active = False
                self.clear_since = None
                self.track.dirty.add(self.key)
                return self._cleared(at, value, held)
        elif self.clear_since is not None:
            self.clear_since = None
            self.track.dirty.add(self.key)
        return None

    def _raised(self, at: datetime, value: float, held: float) -> Trigger:
        unit = self.sensor.unit
        text = (
            f"{self.sensor.name} {fmt_num(value)} {unit} {self.rule.op.value} "
            f"{fmt_num(self._limit)} {unit}"
        )
        if self._for_s > 0:
            text += f" for {fmt_duration(held)}"
        return self._trigger(TriggerKind.RAISED, at, text, value)

    def _cleared(self, at: datetime, value: float, held: float) -> Trigger:
        unit = self.sensor.unit
        side = "below" if self._above else "above"
        text = (
            f"{self.sensor.name} {fmt_num(value)} {unit}, back {side} "
            f"{fmt_num(self._clear_value)} {unit}"
        )
        if self._clear_for_s > 0:
            text += f" for {fmt_duration(held)}"
        return self._trigger(TriggerKind.CLEARED, at, text, value)

    def to_json(self) -> JsonValue:
        """None (no entry) while idle: neither pending, nor raised. Without the newest reading
        time (``SensorTrack``): an entry is rewritten only when the rule's own state changes."""
        if not self.active and self.pending_since is None:
            return None
        return {
            "active": self.active,
            "pending_since": self.pending_since,
            "clear_since": self.clear_since,
        }

    def restore(self, value: JsonValue) -> float | None:
        data = as_dict(value)
        ts = as_opt_num(data.get("ts"))
        active = as_bool(data.get("active", False))
        pending = as_opt_num(data.get("pending_since"))
        clear = as_opt_num(data.get("clear_since"))
        self.active = active
        self.pending_since = None if active else pending
        self.clear_since = clear if active else None
        return ts
