"""A rule engine's state as the store keeps it, and put back as committed
(``RuleEngine.restore_state``).

State keys and subjects:

- threshold, rate-of-change and silence rules: one entry per watched sensor, subject = sensor id,
  none of them rewritten with every reading. A threshold entry changes only when the rule's own
  state does (pending, raised, clearing), and there is none while it is idle; a rate-of-change
  entry (its window as of its ``ts``) on the first reading, when the rule's state changes and
  when a late reading falls inside its window, and the readings stored after its ``ts`` rebuild
  the window on restore (engine_rate.py, ``readings``); a silence entry when it starts counting,
  raises and clears, and the receive time of the sensor's newest evaluated reading is taken on
  restore when that reading is newer than the entry (engine_silence.py, ``received``). The newest
  reading time evaluated per sensor, which keeps a redelivered reading from being evaluated
  twice, is the store's per-sensor mark (the sensors table's ``last_ts``, committed with the
  batch that evaluated it, its receive time in ``last_received_at``), given back as ``evaluated``;
- correlation rules: ``events`` (the window of recent events) and ``cluster-<n>`` per active
  cluster (deleted, i.e. ``None`` in the dirty state, when the cluster expires);
- camera event rules keep no state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from cityops.domain.engine_events import CorrelationEval, Geo
from cityops.domain.engine_rate import RateEval, ReadingsSince, rebuild_windows
from cityops.domain.engine_silence import SilenceEval, settle_silences
from cityops.domain.engine_support import BadStateError, JsonValue, epoch
from cityops.domain.engine_track import SensorEval, SensorTrack

__all__ = [
    "ReadingsSince",
    "finish_sensors",
    "last_evaluated",
    "reset_sensors",
    "restore_entry",
    "value_of",
]


def reset_sensors(tracks: Mapping[str, SensorTrack]) -> None:
    """Every sensor rule's state and every sensor's newest evaluated reading forgotten."""
    for track in tracks.values():
        track.last_ts = None
        for evaluator in track.evaluators:
            evaluator.reset()


def restore_entry(
    evals: Mapping[str, SensorEval],
    correlations: Iterable[CorrelationEval],
    geo: Geo,
    key: str,
    value: JsonValue,
) -> bool:
    """The stored entry ``key`` taken by its evaluator (correlations longest prefix first);
    False when no rule has it. Raises what a garbled entry makes its evaluator raise."""
    evaluator = evals.get(key)
    if evaluator is not None:
        restore_sensor_entry(evaluator, value)
        return True
    for correlation in correlations:
        if key.startswith(correlation.prefix):
            origin = correlation.restore(key[len(correlation.prefix) :], value)
            if origin is not None:
                geo.adopt(origin)
            return True
    return False


def value_of(
    evals: Mapping[str, SensorEval], correlations: Iterable[CorrelationEval], key: str
) -> JsonValue:
    """What to store under ``key`` now (None: delete the entry)."""
    evaluator = evals.get(key)
    if evaluator is not None:
        return evaluator.to_json()
    for correlation in correlations:
        if key.startswith(correlation.prefix):
            return correlation.value_of(key[len(correlation.prefix) :])
    return None


def restore_sensor_entry(evaluator: SensorEval, value: JsonValue) -> None:
    """One sensor rule's stored entry taken (a BadStateError leaves the evaluator reset); its
    sensor's newest evaluated reading time is at least the one the entry had seen."""
    try:
        ts = evaluator.restore(value)
    except BadStateError:
        evaluator.reset()
        raise
    track = evaluator.track
    if ts is not None and (track.last_ts is None or ts > track.last_ts):
        track.last_ts = ts


def finish_sensors(
    tracks: Mapping[str, SensorTrack],
    silences: Iterable[SilenceEval],
    rates: Iterable[RateEval],
    evaluated: Mapping[str, datetime],
    received: Mapping[str, datetime] | None,
    readings: ReadingsSince | None,
) -> None:
    """Once every entry is taken: each sensor's committed mark (``evaluated``), then what the
    readings evaluated after an entry changed in it (the silences' receive time from
    ``received``, the rate windows from ``readings``). A ValueError when one of those is needed
    but not given."""
    for sensor_id, at in evaluated.items():
        track = tracks.get(sensor_id)
        if track is not None:
            ts = epoch(at)
            if track.last_ts is None or ts > track.last_ts:
                track.last_ts = ts
    settle_silences(silences, received)
    rebuild_windows(rates, readings)


def last_evaluated(tracks: Mapping[str, SensorTrack]) -> dict[str, datetime]:
    """The newest reading time evaluated of each watched sensor that had one."""
    return {
        sensor_id: datetime.fromtimestamp(track.last_ts, UTC)
        for sensor_id, track in tracks.items()
        if track.last_ts is not None
    }
