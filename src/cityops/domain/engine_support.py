"""Small shared pieces of the rule engine: the JSON state type, wording, tolerant state parsing."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import TypeAlias

JsonValue: TypeAlias = str | int | float | bool | list["JsonValue"] | dict[str, "JsonValue"] | None
"""A value that ``json.dumps`` writes and ``json.loads`` reads back unchanged."""


class BadStateError(ValueError):
    """A stored state entry that cannot be used (it is skipped on restore)."""


def epoch(dt: datetime) -> float:
    """Seconds since the Unix epoch; a naive datetime is taken as UTC (never as local time)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def fmt_num(x: float) -> str:
    """A number as an operator reads it: 2.93, 2.8, 41, 0.0042 (no float noise)."""
    if x != 0.0 and abs(x) < 1.0:
        return f"{x:.3g}"
    text = f"{x:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def fmt_duration(seconds: float) -> str:
    """A duration in words: "45 s", "10 min", "3 min 20 s", "2 h 5 min"."""
    total = round(max(seconds, 0.0))
    if total < 60:
        return f"{total} s"
    if total < 3600:
        minutes, secs = divmod(total, 60)
        return f"{minutes} min {secs} s" if secs and minutes < 10 else f"{minutes} min"
    hours, rest = divmod(total, 3600)
    minutes = rest // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def as_dict(value: JsonValue) -> dict[str, JsonValue]:
    if not isinstance(value, dict):
        raise BadStateError(f"expected an object, got {type(value).__name__}")
    return value


def as_list(value: JsonValue) -> list[JsonValue]:
    if not isinstance(value, list):
        raise BadStateError(f"expected a list, got {type(value).__name__}")
    return value


def as_num(value: JsonValue) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadStateError(f"expected a number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise BadStateError(f"expected a finite number, got {value!r}")
    return result


def as_opt_num(value: JsonValue) -> float | None:
    return None if value is None else as_num(value)


def as_bool(value: JsonValue) -> bool:
    if not isinstance(value, bool):
        raise BadStateError(f"expected true or false, got {value!r}")
    return value


def as_str(value: JsonValue) -> str:
    if not isinstance(value, str):
        raise BadStateError(f"expected a string, got {value!r}")
    return value
