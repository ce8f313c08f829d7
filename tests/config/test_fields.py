"""The scalar parsers: durations and time-of-day windows."""

from __future__ import annotations

from datetime import time

import pytest

from cityops.config.fields import format_duration, parse_between, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30s", 30.0),
        ("10min", 600.0),
        ("2h", 7200.0),
        ("1h30min", 5400.0),
        ("1h 30min", 5400.0),
        ("1d", 86400.0),
        ("1.5h", 5400.0),
        ("2h0min15s", 7215.0),
        ("90", 90.0),
        (90, 90.0),
        (0.5, 0.5),
    ],
)
def test_parse_duration(text: str | float, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["10m", "", "abc", "30min1h", "h", "-5s", "1 hour", True, None])
def test_parse_duration_refuses(text: object) -> None:
    with pytest.raises(ValueError, match="write a duration such as"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (30, "30s"), (600, "10min"), (5400, "1h30min"), (90061, "1d1h1min1s")],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("22:00-06:00", (time(22, 0), time(6, 0))),
        ("7:30 - 08:15", (time(7, 30), time(8, 15))),
        ("00:00-23:59", (time(0, 0), time(23, 59))),
    ],
)
def test_parse_between(text: str, window: tuple[time, time]) -> None:
    assert parse_between(text) == window


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("22-06", "write a time window as 'HH:MM-HH:MM'"),
        ("22:00", "write a time window as 'HH:MM-HH:MM'"),
        ("22:60-06:00", "hours are 00-23 and minutes 00-59"),
        ("22:00-22:00", "the window starts and ends at the same time"),
        (2200, "write a time window as 'HH:MM-HH:MM'"),
    ],
)
def test_parse_between_refuses(text: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_between(text)
