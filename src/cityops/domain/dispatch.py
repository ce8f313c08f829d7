"""Dispatch out (issue 9): an agency's channels and what one delivery to one of them is.

Pure: which deliveries a dispatch makes, the retry schedule, the statuses. Sending, signing and
the outbox worker are in ``cityops.dispatch``; the outbox rows in ``store/dispatch_repo.py``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cityops.domain.incident import Incident


class Channel(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    """Waiting for its first try."""
    RETRYING = "retrying"
    """Tried and failed; tried again at ``next_at``."""
    SENT = "sent"
    FAILED = "failed"
    """Dead letter: every try failed; an operator must reach the agency another way."""

    @property
    def is_final(self) -> bool:
        return self in (DeliveryStatus.SENT, DeliveryStatus.FAILED)


@dataclass(frozen=True, slots=True)
class AgencyChannels:
    """Where a dispatch to one agency goes. The webhook's secret is never in the configuration:
    ``secret_env`` names an environment variable, or ``secret_file`` a file, that holds it."""

    agency: str
    webhook_url: str | None = None
    secret_env: str | None = None
    secret_file: str | None = None
    email_to: tuple[str, ...] = ()

    def targets(self) -> list[tuple[Channel, str]]:
        """One delivery per target: the webhook, then each e-mail address."""
        out: list[tuple[Channel, str]] = []
        if self.webhook_url:
            out.append((Channel.WEBHOOK, self.webhook_url))
        out.extend((Channel.EMAIL, address) for address in self.email_to)
        return out


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 8
    base_s: float = 5.0
    cap_s: float = 900.0

    def delay_s(self, attempt: int, jitter: float) -> float:
        """The wait after failed try number ``attempt`` (1-based): exponential, capped, with
        "equal jitter" (half fixed, half scaled by ``jitter`` in [0, 1)), so agencies
        recovering from an outage are not hit by every sender at the same second."""
        ceiling = min(self.cap_s, self.base_s * float(2 ** min(attempt - 1, 30)))
        return ceiling * (0.5 + 0.5 * min(max(jitter, 0.0), 1.0))

    def exhausted(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def incident_snapshot(incident: Incident, agency: str) -> dict[str, Any]:
    """The incident as the agency is told it at dispatch time (JSON-ready; links and the
    delivery's id are added when it is sent)."""
    where = incident.location
    return {
        "incident": {
            "id": incident.id,
            "municipality": incident.municipality,
            "type": incident.type,
            "sector": incident.sector.value,
            "severity": incident.severity.value,
            "status": incident.status.value,
            "title": incident.title,
            "title_local": incident.title_local,
            "created_at": incident.created_at.isoformat(),
            "location": None
            if where is None
            else {"lon": where.lon, "lat": where.lat, "geo": geo_uri(where.lat, where.lon)},
        },
        "agency": agency,
    }


def geo_uri(lat: float, lon: float) -> str:
    """RFC 5870 ``geo:`` URI (WGS84), which phones open in their map application."""
    return f"geo:{lat:.6f},{lon:.6f}"
