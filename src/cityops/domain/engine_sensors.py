"""Evaluators of the sensor rules (threshold, rate of change, silence) for one sensor each.

Times inside are float seconds since the Unix epoch: cheap to compare on the hot path and exact
through a JSON round trip. Each evaluator owns the state stored under ``f"{rule_id}|{sensor_id}"``.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from cityops.domain.engine_support import (
    BadStateError,
    JsonValue,
    as_bool,
    as_dict,
    as_list,
    as_num,
    as_opt_num,
    epoch,
    fmt_duration,
    fmt_num,
)
from cityops.domain.entities import Sensor
from cityops.domain.rules import (
    Comparison,
    RateOfChangeRule,
    SilenceRule,
    ThresholdRule,
    Trigger,
    TriggerKind,
)

SensorRule = ThresholdRule | RateOfChangeRule | SilenceRule

_ROUNDING = 1e-9
"""Differences smaller than this (in the sensor's unit) are float rounding, not change."""


class SensorTrack:
    """One watched sensor: the newest reading time evaluated and the rules that watch it.

    ``keys`` are the state keys of the evaluators whose state moves with every reading (rate of
    change: its window; silence: the receive time); the others (threshold) add their key to
    ``dirty`` themselves, only when their state changes. The newest reading time evaluated is
    not part of any entry that is not rewritten anyway: the store's per-sensor mark (the sensors
    table's ``last_ts``, written with every batch) gives it back (``RuleEngine.restore_state``).
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
    moves_with_readings = False

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


class RateEval(SensorEval):
    """Rise (or fall) within a sliding window, using a monotonic deque of (ts, value).

    For rises the deque's values increase from front to back, so the front is the window's
    minimum; for falls they decrease and the front is the maximum.
    """

    __slots__ = ("_change", "_clear_for_s", "_rise", "_window_s", "active", "clear_since", "window")

    rule: RateOfChangeRule

    def __init__(self, rule: RateOfChangeRule, track: SensorTrack) -> None:
        super().__init__(rule, track)
        self._change = rule.change
        self._rise = rule.change > 0
        self._window_s = rule.window_s
        self._clear_for_s = rule.clear_for_s
        self.window: deque[tuple[float, float]] = deque()
        self.reset()

    def reset(self) -> None:
        self.window.clear()
        self.active = False
        self.clear_since: float | None = None

    @property
    def in_alarm(self) -> bool:
        return self.active

    def _push(self, ts: float, value: float) -> None:
        window = self.window
        if self._rise:
            while window and window[-1][1] >= value:
                window.pop()
        else:
            while window and window[-1][1] <= value:
                window.pop()
        window.append((ts, value))
        horizon = ts - self._window_s
        while window[0][0] < horizon:
            window.popleft()

    def on_reading(
        self, ts: float, value: float, at: datetime, received_at: datetime
    ) -> Trigger | None:
        self._push(ts, value)
        ref_ts, ref_value = self.window[0]
        change = value - ref_value
        # a change equal to the limit but for float rounding (1.3 - 1.0) does not count
        holds = (
            change - self._change > _ROUNDING if self._rise else self._change - change > _ROUNDING
        )
        if not self.active:
            if holds:
                self.active = True
                self.clear_since = None
                return self._raised(at, value, change, ts - ref_ts)
            return None
        if holds:
            self.clear_since = None
            return None
        if self.clear_since is None:
            self.clear_since = ts
        if ts - self.clear_since >= self._clear_for_s:
            self.active = False
            self.clear_since = None
            return self._cleared(at, value, change)
        return None

    def _raised(self, at: datetime, value: float, change: float, span: float) -> Trigger:
        unit = self.sensor.unit
        verb = "rose" if self._rise else "fell"
        text = (
            f"{self.sensor.name} {verb} {fmt_num(abs(change))} {unit} in {fmt_duration(span)} "
            f"to {fmt_num(value)} {unit} (more than {fmt_num(abs(self._change))} {unit} "
            f"within {fmt_duration(self._window_s)})"
        )
        return self._trigger(TriggerKind.RAISED, at, text, value)

    def _cleared(self, at: datetime, value: float, change: float) -> Trigger:
        unit = self.sensor.unit
        what = "rising" if self._rise else "falling"
        text = (
            f"{self.sensor.name} no longer {what} fast: {fmt_num(change)} {unit} within "
            f"{fmt_duration(self._window_s)}, now {fmt_num(value)} {unit}"
        )
        return self._trigger(TriggerKind.CLEARED, at, text, value)

    def to_json(self) -> JsonValue:
        if self.track.last_ts is None and not self.active:
            return None
        window: list[JsonValue] = [[ts, value] for ts, value in self.window]
        return {
            "ts": self.track.last_ts,
            "active": self.active,
            "clear_since": self.clear_since,
            "window": window,
        }

    def restore(self, value: JsonValue) -> float | None:
        data = as_dict(value)
        ts = as_opt_num(data.get("ts"))
        active = as_bool(data.get("active", False))
        clear = as_opt_num(data.get("clear_since"))
        points: list[tuple[float, float]] = []
        for item in as_list(data.get("window", [])):
            pair = as_list(item)
            if len(pair) != 2:
                raise BadStateError(f"window entry is not [ts, value]: {pair!r}")
            points.append((as_num(pair[0]), as_num(pair[1])))
        self.reset()
        for point_ts, point_value in sorted(points):
            self._push(point_ts, point_value)
        self.active = active
        self.clear_since = clear if active else None
        return ts


class SilenceEval(SensorEval):
    """Offline detection on receive time: tick() raises, the next reading clears."""

    __slots__ = ("last_rx", "silent")

    rule: SilenceRule

    def __init__(self, rule: SilenceRule, track: SensorTrack) -> None:
        super().__init__(rule, track)
        self.reset()

    def reset(self) -> None:
        self.last_rx: float | None = None
        self.silent = False

    @property
    def offline(self) -> bool:
        return self.silent

    def on_reading(
        self, ts: float, value: float, at: datetime, received_at: datetime
    ) -> Trigger | None:
        rx = epoch(received_at)
        previous = self.last_rx
        self.last_rx = rx
        if not self.silent:
            return None
        self.silent = False
        gap = "" if previous is None else f" after {fmt_duration(rx - previous)} without readings"
        text = f"{self.sensor.name}: back online{gap}"
        return self._trigger(TriggerKind.CLEARED, received_at, text, value)

    def tick(self, now_ts: float, now: datetime) -> tuple[bool, Trigger | None]:
        """Returns (state changed, trigger)."""
        if self.last_rx is None:
            self.last_rx = now_ts  # never heard of: the silence is counted from now
            return True, None
        silence = now_ts - self.last_rx
        if self.silent or silence < self.rule.silence_s:
            return False, None
        self.silent = True
        text = f"{self.sensor.name}: no reading for {fmt_duration(silence)}"
        return True, self._trigger(TriggerKind.RAISED, now, text, None)

    def to_json(self) -> JsonValue:
        if self.last_rx is None and self.track.last_ts is None:
            return None
        return {"ts": self.track.last_ts, "last_rx": self.last_rx, "silent": self.silent}

    def restore(self, value: JsonValue) -> float | None:
        data = as_dict(value)
        ts = as_opt_num(data.get("ts"))
        last_rx = as_opt_num(data.get("last_rx"))
        silent = as_bool(data.get("silent", False))
        self.last_rx = last_rx
        self.silent = silent and last_rx is not None
        return ts


def make_sensor_eval(rule: SensorRule, track: SensorTrack) -> SensorEval:
    if isinstance(rule, ThresholdRule):
        return ThresholdEval(rule, track)
    if isinstance(rule, RateOfChangeRule):
        return RateEval(rule, track)
    return SilenceEval(rule, track)
