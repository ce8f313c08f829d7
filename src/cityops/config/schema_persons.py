"""The ``persons:`` section: SOS of vulnerable people (docs/CONFIG.md "persons",
docs/AGENCIES.md "SOS of vulnerable people"). Every key is optional."""

from __future__ import annotations

from pydantic import Field

from cityops.config.base import Model
from cityops.domain.persons import DEFAULT_PERSONS, PersonsPolicy


class PersonsModel(Model):
    positions_hours: float = Field(
        default=DEFAULT_PERSONS.positions_hours,
        gt=0,
        le=24 * 31,
        description="Hours a person's track (positions, SOS) is kept after receipt",
    )
    police: str | None = Field(
        default=None,
        max_length=64,
        description="The agency an episode is forwarded to (a share with origin sos)",
    )
    purpose: str | None = Field(
        default=None, max_length=64, description="The share's purpose (a sharing: purpose id)"
    )
    share_minutes: float = Field(
        default=DEFAULT_PERSONS.share_minutes,
        gt=0,
        le=7 * 24 * 60,
        description="How long the forwarded share lasts",
    )
    photo_max_bytes: int = Field(
        default=DEFAULT_PERSONS.photo_max_bytes,
        ge=10_000,
        le=20_000_000,
        description="The largest photo accepted (JPEG or PNG)",
    )

    def to_domain(self) -> PersonsPolicy:
        return PersonsPolicy(
            positions_hours=self.positions_hours,
            police=self.police,
            purpose=self.purpose,
            share_minutes=self.share_minutes,
            photo_max_bytes=self.photo_max_bytes,
        )
