"""The ``retention:`` section: how long the municipality keeps each kind of data
(docs/CONFIG.md "retention", docs/PRIVACY.md). Every key is optional; 0 keeps for ever."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from cityops.config.base import Model
from cityops.domain.retention import RetentionPolicy

_DEFAULT = RetentionPolicy()
_TEN_YEARS = 3653.0


def _days(default: float, what: str) -> Any:
    return Field(default=default, ge=0, le=100 * 365, description=f"Days {what} (0: for ever)")


class RetentionModel(Model):
    evidence_days: float | None = Field(
        default=None,
        ge=0,
        le=_TEN_YEARS,
        description="Days event snapshots and clips are kept (default: the installation's "
        "CITYOPS_EVIDENCE_RETENTION_DAYS, 30)",
    )
    readings_days: float = _days(_DEFAULT.readings_days, "raw readings are kept, then hourly")
    readings_hourly_days: float = _days(_DEFAULT.readings_hourly_days, "hourly aggregates")
    events_days: float = _days(_DEFAULT.events_days, "camera and device events are kept")
    dead_letters_days: float = _days(_DEFAULT.dead_letters_days, "dead letters are kept")
    audit_years: float = Field(
        default=_DEFAULT.audit_years,
        ge=0,
        le=100,
        description="Years audit records are kept (0: for ever)",
    )

    def to_domain(self) -> RetentionPolicy:
        return RetentionPolicy(
            evidence_days=self.evidence_days,
            readings_days=self.readings_days,
            readings_hourly_days=self.readings_hourly_days,
            events_days=self.events_days,
            dead_letters_days=self.dead_letters_days,
            audit_years=self.audit_years,
        )
