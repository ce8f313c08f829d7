"""The rate-of-change rule's evaluator: a rise (or fall) of more than a set change in a window.

Its stored entry is written only when it is needed, not with every reading: on the first reading
it sees without an entry (the baseline), when its own state changes (raised, clearing, cleared)
and when a reading arrives too late to be evaluated (no newer than the newest evaluated) with a
time inside the window. The entry holds the window as it was at its ``ts``; every reading stored
after ``ts`` up to the sensor's newest evaluated one was evaluated and changed nothing but the
window, so :meth:`RateEval.replay` rebuilds the window exactly from the readings table
(``RuleEngine.restore_state``). A late reading inside the window, which the table holds but the
engine never evaluated, moves ``ts`` past it by rewriting the entry.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime

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
from cityops.domain.engine_track import SensorEval, SensorTrack
from cityops.domain.rules import RateOfChangeRule, Trigger, TriggerKind

ReadingsSince = Callable[[Mapping[str, datetime]], Mapping[str, Sequence[tuple[datetime, float]]]]
"""Given sensor id -> a time, each of those sensors' stored readings (time, value) from that
time on, oldest first: what rebuilds the windows on restore (observations_repo.readings_since)."""

_ROUNDING = 1e-9
"""Differences smaller than this (in the sensor's unit) are float rounding, not change."""


class RateEval(SensorEval):
    """Rise (or fall) within a sliding window, using a monotonic deque of (ts, value).

    For rises the deque's values increase from front to back, so the front is the window's
    minimum; for falls they decrease and the front is the maximum. The deque is a function of
    the set of readings evaluated in the window (those not followed by a lower one, for rises),
    whatever the batches they came in: a stored deque plus the readings after it, pushed in time
    order, give the same deque.
    """

    __slots__ = (
        "_change",
        "_clear_for_s",
        "_rise",
        "_window_s",
        "active",
        "clear_since",
        "stored_ts",
        "window",
    )

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
        self.stored_ts: float | None = None
        """The ``ts`` of the stored entry (the window's reading time); None: no entry."""

    def _store(self) -> None:
        """The entry is (re)written with the batch: its ``ts`` is then the newest evaluated."""
        self.stored_ts = self.track.last_ts
        self.track.dirty.add(self.key)

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
        if self.stored_ts is None:
            self._store()  # the baseline: readings before it were never in this window
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
                self._store()
                return self._raised(at, value, change, ts - ref_ts)
            return None
        if holds:
            if self.clear_since is not None:
                self.clear_since = None
                self._store()
            return None
        if self.clear_since is None:
            self.clear_since = ts
            self._store()
        if ts - self.clear_since >= self._clear_for_s:
            self.active = False
            self.clear_since = None
            self._store()
            return self._cleared(at, value, change)
        return None

    def on_late(self, ts: float) -> None:
        """A reading no newer than the newest evaluated, so not evaluated (a redelivery, or a
        late one the table keeps): inside the window, the rebuild must not take it."""
        last = self.track.last_ts
        if self.window and last is not None and ts >= last - self._window_s:
            self._store()

    def replay_from(self) -> float | None:
        """The reading time from which stored readings are needed to rebuild the window (after
        :meth:`restore`, the sensor's newest evaluated time restored); None: nothing to rebuild."""
        stored, last = self.stored_ts, self.track.last_ts
        if stored is None or last is None or last <= stored:
            return None
        return max(stored, last - self._window_s)

    def replay(self, readings: Iterable[tuple[float, float]]) -> None:
        """Push the stored readings after the entry's ``ts`` up to the newest evaluated (each
        was evaluated and left the rule's state as it was), oldest first."""
        stored, last = self.stored_ts, self.track.last_ts
        if stored is None or last is None:
            return
        for ts, value in readings:
            if stored < ts <= last:
                self._push(ts, value)

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
        if not self.window and not self.active:
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
        if self.window or active:
            self.stored_ts = ts
        return ts


def rebuild_windows(rates: Iterable[RateEval], readings: ReadingsSince | None) -> None:
    """After a restore: the windows whose entries are older than their sensor's newest evaluated
    reading, rebuilt from the readings stored since (asked for in one call). A ValueError
    without ``readings`` when one is needed: the window would be wrong."""
    since: dict[str, float] = {}
    pending: list[RateEval] = []
    for rate in rates:
        start = rate.replay_from()
        if start is not None:
            pending.append(rate)
            sensor_id = rate.sensor.id
            since[sensor_id] = min(start, since.get(sensor_id, start))
    if not pending:
        return
    if readings is None:
        raise ValueError("rate-of-change windows to rebuild, but no stored readings given")
    # a millisecond early: the exact bounds are the evaluator's, in its own float seconds
    got = readings({s: datetime.fromtimestamp(ts - 0.001, UTC) for s, ts in since.items()})
    for rate in pending:
        rate.replay((epoch(at), value) for at, value in got.get(rate.sensor.id, ()))
