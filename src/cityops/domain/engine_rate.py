"""The rate-of-change rule's evaluator: a rise (or fall) of more than a set change in a window."""

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
    fmt_duration,
    fmt_num,
)
from cityops.domain.engine_track import SensorEval, SensorTrack
from cityops.domain.rules import RateOfChangeRule, Trigger, TriggerKind

_ROUNDING = 1e-9
"""Differences smaller than this (in the sensor's unit) are float rounding, not change."""


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
