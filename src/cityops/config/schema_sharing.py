"""The ``sharing:`` section: agency shares of live video (docs/CONFIG.md "sharing",
docs/AGENCIES.md "Shares"). Without it a municipality shares with the defaults of
:data:`cityops.domain.shares.DEFAULT_POLICY` (one purpose, "emergency")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Self

from pydantic import Field, model_validator

from cityops.config.base import Model
from cityops.config.fields import Id, Name, PositiveDuration, format_duration
from cityops.config.schema_requests import RequestsModel
from cityops.domain.shares import DEFAULT_POLICY, AutoShare, Purpose, SharingPolicy

PathAndMessage = tuple[tuple[str | int, ...], str]


class PurposeModel(Model):
    id: Id
    label: Name
    label_local: Name | None = None


class AutoShareModel(Model):
    incident_type: Id
    agency: Id
    purpose: Id
    for_s: PositiveDuration = Field(alias="for", description="How long the share lasts, e.g. 2h")


def _default_purposes() -> list[PurposeModel]:
    return [
        PurposeModel(id=p.id, label=p.label, label_local=p.label_local)
        for p in DEFAULT_POLICY.purposes
    ]


class SharingModel(Model):
    purposes: list[PurposeModel] = Field(
        default_factory=_default_purposes, min_length=1, max_length=100
    )
    default_duration_s: PositiveDuration = Field(
        default=DEFAULT_POLICY.default_minutes * 60, alias="default_duration"
    )
    max_duration_s: PositiveDuration = Field(
        default=DEFAULT_POLICY.max_minutes * 60, alias="max_duration"
    )
    radius_m: float = Field(default=DEFAULT_POLICY.radius_m, gt=0, le=2000)
    auto: list[AutoShareModel] = Field(default_factory=list, max_length=100)
    requests: RequestsModel | None = None
    """Location requests from agency systems (L: config/schema_requests.py)."""

    @model_validator(mode="after")
    def _durations(self) -> Self:
        if self.default_duration_s > self.max_duration_s:
            raise ValueError(
                f"default_duration {format_duration(self.default_duration_s)} is longer than "
                f"max_duration {format_duration(self.max_duration_s)}"
            )
        return self

    def to_domain(self) -> SharingPolicy:
        return SharingPolicy(
            purposes=tuple(Purpose(p.id, p.label, p.label_local) for p in self.purposes),
            default_minutes=self.default_duration_s / 60,
            max_minutes=self.max_duration_s / 60,
            radius_m=self.radius_m,
            auto=tuple(
                AutoShare(a.incident_type, a.agency, a.purpose, a.for_s / 60) for a in self.auto
            ),
            requests=self.requests.to_domain() if self.requests else None,
        )


def problems(sharing: SharingModel | None, agencies: Sequence[str]) -> list[PathAndMessage]:
    """Cross-section checks: purpose ids unique; auto rules name a defined agency and purpose
    and last no longer than ``max_duration``."""
    if sharing is None:
        return []
    found: list[PathAndMessage] = []
    seen: set[str] = set()
    for i, p in enumerate(sharing.purposes):
        if p.id in seen:
            found.append((("sharing", "purposes", i, "id"), f"duplicate id {p.id!r}"))
        seen.add(p.id)
    for i, a in enumerate(sharing.auto):
        here: tuple[str | int, ...] = ("sharing", "auto", i)
        if a.agency not in agencies:
            known = ", ".join(sorted(agencies)) or "none is defined"
            found.append(((*here, "agency"), f"unknown agency {a.agency!r} (agencies: {known})"))
        if a.purpose not in seen:
            known = ", ".join(sorted(seen))
            found.append(((*here, "purpose"), f"unknown purpose {a.purpose!r} ({known})"))
        if a.for_s > sharing.max_duration_s:
            found.append(
                (
                    (*here, "for"),
                    f"{format_duration(a.for_s)} is longer than max_duration "
                    f"{format_duration(sharing.max_duration_s)}",
                )
            )
    return found
