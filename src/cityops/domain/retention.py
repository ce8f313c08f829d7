"""How long each kind of data is kept (docs/PRIVACY.md), and the cut-off times that follow."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

DAY_S = 86400.0
YEAR_DAYS = 365.25


class DataKind(StrEnum):
    EVIDENCE = "evidence"  # event snapshots and clips (files and their records)
    READINGS = "readings"  # raw sensor readings: aggregated by hour, then removed
    READINGS_HOURLY = "readings_hourly"  # the hourly aggregates
    EVENTS = "events"  # camera and device events
    DEAD_LETTERS = "dead_letters"  # rejected messages with their payloads
    AUDIT = "audit"  # audit records (anchored first, the chain stays verifiable)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """Days each kind is kept (0: kept for ever). ``evidence_days`` None: the installation's
    ``CITYOPS_EVIDENCE_RETENTION_DAYS``."""

    evidence_days: float | None = None
    readings_days: float = 90.0
    readings_hourly_days: float = 0.0
    events_days: float = 365.0
    dead_letters_days: float = 30.0
    audit_years: float = 5.0

    def days(self, kind: DataKind, evidence_default: float) -> float:
        """How many days ``kind`` is kept (0: for ever)."""
        match kind:
            case DataKind.EVIDENCE:
                return evidence_default if self.evidence_days is None else self.evidence_days
            case DataKind.READINGS:
                return self.readings_days
            case DataKind.READINGS_HOURLY:
                return self.readings_hourly_days
            case DataKind.EVENTS:
                return self.events_days
            case DataKind.DEAD_LETTERS:
                return self.dead_letters_days
            case DataKind.AUDIT:
                return self.audit_years * YEAR_DAYS

    def cutoffs(self, now: datetime, evidence_default: float) -> dict[DataKind, datetime | None]:
        """Per kind, the time before which its records go (None: kept for ever). Raw readings
        and their hourly aggregates go by whole hours: an hour is aggregated once, complete, and its
        aggregate goes when all of the hour is past its age."""
        out: dict[DataKind, datetime | None] = {}
        for kind in DataKind:
            days = self.days(kind, evidence_default)
            if days <= 0:
                out[kind] = None
                continue
            cut = now - timedelta(seconds=days * DAY_S)
            hourly = kind in (DataKind.READINGS, DataKind.READINGS_HOURLY)
            out[kind] = hour_floor(cut) if hourly else cut
        return out


def hour_floor(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True, slots=True)
class HourlyAggregate:
    """What one sensor's readings of one UTC hour gave."""

    sensor_id: str
    hour: datetime
    count: int
    min: float
    max: float
    mean: float


def hourly(readings: Iterable[tuple[str, datetime, float]]) -> list[HourlyAggregate]:
    """Per sensor and UTC hour, count/min/max/mean of ``(sensor, ts, value)`` readings."""
    groups: dict[tuple[str, datetime], list[float]] = {}
    for sensor, ts, value in readings:
        groups.setdefault((sensor, hour_floor(ts)), []).append(value)
    return [
        HourlyAggregate(sensor, hour, len(v), min(v), max(v), math.fsum(v) / len(v))
        for (sensor, hour), v in sorted(groups.items())
    ]
