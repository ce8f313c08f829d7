"""The silence rule's evaluator: a sensor that sent nothing for a while (by receive time)."""

from __future__ import annotations

from datetime import datetime

from cityops.domain.engine_support import (
    JsonValue,
    as_bool,
    as_dict,
    as_opt_num,
    epoch,
    fmt_duration,
)
from cityops.domain.engine_track import SensorEval, SensorTrack
from cityops.domain.rules import SilenceRule, Trigger, TriggerKind


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
