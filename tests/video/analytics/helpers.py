"""Exact synthetic tracks for the scene tests: objects at given foot points at given times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cityops.domain.analytics import ObjectClass
from cityops.video.analytics.types import Box, TrackedObject

T0 = datetime(2026, 1, 15, 10, 0, 0, tzinfo=UTC)
"""A winter Thursday, 12:00 in Sofia (UTC+2)."""


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def obj(
    track_id: int,
    foot: tuple[float, float],
    cls: ObjectClass = ObjectClass.PERSON,
    size: tuple[float, float] = (0.04, 0.1),
) -> TrackedObject:
    """A tracked object standing at ``foot`` (bottom centre of its box)."""
    x, y = foot
    w, h = size
    return TrackedObject(track_id, cls, Box(x - w / 2, y - h, x + w / 2, y), 0.9)
