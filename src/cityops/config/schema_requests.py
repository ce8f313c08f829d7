"""``sharing.requests``: which agencies' systems may send location requests, of which types
(docs/AGENCIES.md "Location requests", docs/CONFIG.md "sharing").

```yaml
sharing:
  purposes: [{id: robbery, label: Robbery, label_local: Грабеж}, ...]
  requests:
    within_km: 20            # without public_warnings.boundary: farther = outside
    agencies:
      - {agency: police, types: [robbery, theft], for: 1h, radius_m: 150, severity: severe}
```

A request type is a purpose id: what the agency asks for is what the share is for. References
to agencies and purposes, and the duration against ``sharing.max_minutes``, are checked by
:func:`problems` (called from config/checks.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Annotated

from pydantic import Field, Strict

from cityops.config.base import Model
from cityops.config.fields import Id, PositiveDuration
from cityops.domain.agency_requests import AgencyRequestPolicy, AgencyRequests
from cityops.domain.entities import Sector, Severity

if TYPE_CHECKING:  # schema_sharing holds a RequestsModel: imported only for the type
    from cityops.config.schema_sharing import SharingModel

Path = tuple[str | int, ...]


class AgencyRequestModel(Model):
    agency: Id
    types: list[Id] = Field(min_length=1, max_length=100)
    for_s: PositiveDuration | None = Field(default=None, alias="for")
    """How long the share lasts (default: ``sharing.default_minutes``)."""
    radius_m: Annotated[float, Strict(), Field(gt=0.0, le=5000.0)] | None = None
    severity: Severity = Severity.SEVERE
    sector: Sector = Sector.SAFETY

    def to_domain(self) -> AgencyRequestPolicy:
        return AgencyRequestPolicy(
            agency=self.agency,
            types=tuple(dict.fromkeys(self.types)),
            minutes=self.for_s / 60.0 if self.for_s is not None else None,
            radius_m=self.radius_m,
            severity=self.severity,
            sector=self.sector,
        )


class RequestsModel(Model):
    within_km: Annotated[float, Strict(), Field(gt=0.0, le=500.0)] = 20.0
    agencies: list[AgencyRequestModel] = Field(default_factory=list, max_length=50)

    def to_domain(self) -> AgencyRequests:
        return AgencyRequests(
            agencies=tuple(a.to_domain() for a in self.agencies), within_km=self.within_km
        )


def problems(
    requests: RequestsModel,
    *,
    agencies: Iterable[str],
    purposes: Iterable[str],
    max_minutes: float,
    at: Path = ("sharing", "requests"),
) -> list[tuple[Path, str]]:
    """(path, message) for each agency that is not configured, each type that is not a purpose,
    each duration beyond ``max_minutes``, each agency listed twice."""
    known_agencies, known_purposes = set(agencies), set(purposes)
    found: list[tuple[Path, str]] = []
    seen: set[str] = set()
    for i, entry in enumerate(requests.agencies):
        here = (*at, "agencies", i)
        if entry.agency not in known_agencies:
            found.append(((*here, "agency"), f"unknown agency {entry.agency!r}"))
        if entry.agency in seen:
            found.append(((*here, "agency"), f"agency {entry.agency!r} is listed twice"))
        seen.add(entry.agency)
        for j, type_id in enumerate(entry.types):
            if type_id not in known_purposes:
                found.append(
                    (
                        (*here, "types", j),
                        f"{type_id!r} is not one of sharing.purposes ({_listing(known_purposes)})",
                    )
                )
        if entry.for_s is not None and entry.for_s / 60.0 > max_minutes:
            found.append(((*here, "for"), f"longer than sharing.max_minutes ({max_minutes:g})"))
    return found


def sharing_problems(
    sharing: SharingModel | None, agencies: Iterable[str]
) -> list[tuple[Path, str]]:
    """:func:`problems` of ``sharing.requests``, if the section has any."""
    if sharing is None or sharing.requests is None:
        return []
    return problems(
        sharing.requests,
        agencies=agencies,
        purposes=[p.id for p in sharing.purposes],
        max_minutes=sharing.max_duration_s / 60.0,
    )


def _listing(values: Sequence[str] | set[str]) -> str:
    return ", ".join(sorted(values)) or "none"
