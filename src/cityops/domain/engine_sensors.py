"""The evaluators of the sensor rules (threshold, rate of change, silence), one per rule and
sensor, made by :func:`make_sensor_eval`.

Their shared base and the watched sensor's track are in engine_track.py; each evaluator is in a
module of its own (engine_threshold.py, engine_rate.py, engine_silence.py). The names stay
importable from here.
"""

from __future__ import annotations

from cityops.domain.engine_rate import RateEval
from cityops.domain.engine_silence import SilenceEval
from cityops.domain.engine_threshold import ThresholdEval
from cityops.domain.engine_track import SensorEval, SensorRule, SensorTrack
from cityops.domain.rules import RateOfChangeRule, ThresholdRule

__all__ = [
    "RateEval",
    "SensorEval",
    "SensorRule",
    "SensorTrack",
    "SilenceEval",
    "ThresholdEval",
    "make_sensor_eval",
]


def make_sensor_eval(rule: SensorRule, track: SensorTrack) -> SensorEval:
    if isinstance(rule, ThresholdRule):
        return ThresholdEval(rule, track)
    if isinstance(rule, RateOfChangeRule):
        return RateEval(rule, track)
    return SilenceEval(rule, track)
