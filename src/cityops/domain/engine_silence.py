"""The silence rule's evaluator: a sensor that sent nothing for a while (by receive time).

Its stored entry is written only when its own state changes, not with every reading: when it
starts counting (the first reading it sees, or a tick before any: "never heard of"), when it
raises (silent) and when a reading clears it. What moves with every reading, the receive time of
the newest evaluated one, is in the sensors table (``last_received_at``, committed with the batch
that evaluated the reading, next to ``last_ts``): when the sensor's newest evaluated reading is
newer than the entry's ``ts``, :func:`settle_silences` takes its receive time from there on restore
(``RuleEngine.restore_state``'s ``received``). A late reading (no newer than the newest evaluated)
changes nothing here, as it never did.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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

    __slots__ = ("last_rx", "silent", "stored", "stored_ts")

    rule: SilenceRule

    def __init__(self, rule: SilenceRule, track: SensorTrack) -> None:
        super().__init__(rule, track)
        self.reset()

    def reset(self) -> None:
        self.last_rx: float | None = None
        self.silent = False
        self.stored = False
        """Restored from an entry (only then may the sensors table's mark move it on)."""
        self.stored_ts: float | None = None
        """The restored entry's ``ts``: the newest reading it had seen."""

    @property
    def offline(self) -> bool:
        return self.silent

    def on_reading(
        self, ts: float, value: float, at: datetime, received_at: datetime
    ) -> Trigger | None:
        rx = epoch(received_at)
        previous = self.last_rx
        self.last_rx = rx
        if previous is None:  # it starts counting: the entry says so from now on
            self.track.dirty.add(self.key)
        if not self.silent:
            return None
        self.silent = False
        self.track.dirty.add(self.key)
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
        self.stored = True
        self.stored_ts = ts
        return ts

    def newer_than_entry(self) -> bool:
        """After a restore: the sensor's newest evaluated reading came after the entry."""
        last = self.track.last_ts
        return (
            self.stored and last is not None and (self.stored_ts is None or last > self.stored_ts)
        )


def settle_silences(
    silences: Iterable[SilenceEval], received: Mapping[str, datetime] | None
) -> None:
    """After a restore: each entry older than its sensor's newest evaluated reading takes that
    reading's receive time (``received``: the sensors table's ``last_received_at``); such a
    reading could not find it silent (its clear would have rewritten the entry). A ValueError
    without ``received`` when one is needed: the silence would be counted from too early."""
    for silence in silences:
        if not silence.newer_than_entry():
            continue
        if received is None:
            raise ValueError("silence entries older than the readings, but no receive times given")
        last = silence.track.last_ts
        at = received.get(silence.sensor.id)
        silence.last_rx = last if at is None else epoch(at)  # no receive time: its reading time
        silence.silent = False
