"""Location requests from agency systems (issue 9 item 3; docs/AGENCIES.md "Location requests").

An agency's system (112, 119) sends a place, a request type and its own case number; CityOps
opens (or joins, for the same case) a linked incident, shares the cameras that see the place
with the agency and answers with the share's link. This module holds what that needs that is
pure: the request, the municipality's policy (``sharing.requests``), why a request is refused
(each reason with its HTTP status), the MQTT topics, and the incident a request proposes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pyproj import Geod

from cityops.domain.entities import LonLat, Sector, Severity
from cityops.domain.rules import RuleOutcome

RULE_ID = "agency-request"
"""The ``rule_id`` of a request's synthetic trigger (the timeline: ``rule:agency-request``)."""
CASE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
"""A case number: 1-64 letters, digits, ``.``, ``_``, ``:`` or ``-``, starting with a letter or
digit. It is a topic level of the MQTT answer, so never ``/``, ``+``, ``#`` or a leading ``_``."""
INVALID_CASE_LEVEL = "_invalid"
"""The answer topic's last level when the request has no usable case number (no case can be it)."""
TOPIC_PREFIX = "cityops"


class Refusal(StrEnum):
    """Why a request is refused; the value is the ``reason`` of the answer and of the metrics."""

    MALFORMED = "malformed"
    """Not a JSON object of the documented fields and types."""
    TOO_LARGE = "too_large"
    MISSING_CASE = "missing_case"
    BAD_CASE = "bad_case"
    UNKNOWN_TYPE = "unknown_type"
    """A type the municipality does not allow this agency to request."""
    OUTSIDE = "outside"
    """The place is outside the municipality."""
    WRONG_AGENCY = "wrong_agency"
    """The request names another agency than the one the credential speaks for."""
    AGENCY_NOT_ALLOWED = "agency_not_allowed"
    """The agency may not send location requests here (not in ``sharing.requests``)."""
    SHARE_REFUSED = "share_refused"
    """The share could not be made as configured (services/shares.py says why)."""
    UNAVAILABLE = "unavailable"
    """CityOps could not serve it now (the database failed): try again."""

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS = {
    Refusal.MALFORMED: 422,
    Refusal.TOO_LARGE: 413,
    Refusal.MISSING_CASE: 422,
    Refusal.BAD_CASE: 422,
    Refusal.UNKNOWN_TYPE: 422,
    Refusal.OUTSIDE: 422,
    Refusal.WRONG_AGENCY: 403,
    Refusal.AGENCY_NOT_ALLOWED: 403,
    Refusal.SHARE_REFUSED: 409,
    Refusal.UNAVAILABLE: 503,
}


class RequestRefusedError(Exception):
    """A request that is not served; ``message`` says why in words an integrator can act on."""

    def __init__(self, reason: Refusal, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message

    @property
    def status(self) -> int:
        return self.reason.status


@dataclass(frozen=True, slots=True)
class LocationRequest:
    """A decoded request (services/agency_payload.py decodes the JSON)."""

    case: str
    type: str
    place: LonLat
    agency: str | None = None
    """The agency the payload names, if it names one: it must be the caller's."""
    note: str | None = None
    request_id: str | None = None
    """The caller's own id of this message, echoed in the answer (MQTT 3.1.1 correlation)."""


@dataclass(frozen=True, slots=True)
class AgencyRequestPolicy:
    """What one agency may request: ``types`` are purpose ids of ``sharing.purposes``."""

    agency: str
    types: tuple[str, ...]
    minutes: float | None = None
    """How long the share lasts (None: ``sharing.default_minutes``)."""
    radius_m: float | None = None
    """Cameras within this of the place (None: ``sharing.radius_m``)."""
    severity: Severity = Severity.SEVERE
    sector: Sector = Sector.SAFETY


@dataclass(frozen=True, slots=True)
class AgencyRequests:
    """A municipality's ``sharing.requests``."""

    agencies: tuple[AgencyRequestPolicy, ...] = ()
    within_km: float = 20.0
    """Without ``public_warnings.boundary``: a place farther than this from the municipality's
    centre is outside it."""

    def policy_of(self, agency: str) -> AgencyRequestPolicy | None:
        return next((a for a in self.agencies if a.agency == agency), None)


def dedup_key(agency: str, case: str) -> str:
    """One open incident per agency and case: the same case again joins it."""
    return f"{RULE_ID}|{agency}|{case}"


def outcome(
    policy: AgencyRequestPolicy,
    request: LocationRequest,
    type_label: str,
    type_label_local: str | None = None,
) -> RuleOutcome:
    """The incident a request proposes: of the request's type (a purpose id, e.g. ``robbery``),
    proposed to the agency. Braces in the label are doubled: the title is a template
    (services/incidents._titles); a case number cannot hold any."""
    label, local = _literal(type_label) or request.type, _literal(type_label_local)
    return RuleOutcome(
        incident_type=request.type,
        sector=policy.sector,
        severity=policy.severity,
        title=f"{policy.agency} request {request.case}: {label}",
        agency=policy.agency,
        title_local=f"{policy.agency} {request.case}: {local}" if local else None,
    )


def _literal(text: str | None) -> str | None:
    return text.replace("{", "{{").replace("}", "}}") if text is not None else None


_GEOD = Geod(ellps="WGS84")


def distance_km(a: LonLat, b: LonLat) -> float:
    """The geodesic distance on WGS 84 (any two points on Earth)."""
    _, _, metres = _GEOD.inv(a.lon, a.lat, b.lon, b.lat)
    return float(metres) / 1000.0


# --- MQTT topics (docs/MQTT.md; the grants are domain/devices.py's) ---------------------------


def request_topic(municipality: str, agency: str) -> str:
    return f"{TOPIC_PREFIX}/{municipality}/agency/{agency}/requests"


def responses_root(municipality: str, agency: str) -> str:
    """Every answer to ``agency`` is under this; an MQTT 5 response topic must be too."""
    return f"{TOPIC_PREFIX}/{municipality}/agency/{agency}/responses"


def response_topic(municipality: str, agency: str, case: str | None) -> str:
    """The default answer topic: ``.../responses/<case>`` (``_invalid`` without a usable case)."""
    level = case if case is not None and CASE.fullmatch(case) else INVALID_CASE_LEVEL
    return f"{responses_root(municipality, agency)}/{level}"


def parse_request_topic(topic: str) -> tuple[str, str] | None:
    """``cityops/<m>/agency/<agency>/requests`` -> (municipality, agency); else None."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_PREFIX or parts[2] != "agency":
        return None
    if parts[4] != "requests" or not parts[1] or not parts[3]:
        return None
    return parts[1], parts[3]


def reply_topic_allowed(municipality: str, agency: str, topic: str) -> bool:
    """Whether an MQTT 5 response topic may be answered on: a topic (no wildcards) under the
    agency's own responses, so a request cannot make CityOps publish anywhere else."""
    root = responses_root(municipality, agency) + "/"
    rest = topic[len(root) :] if topic.startswith(root) else ""
    return bool(rest) and not any(c in rest for c in "+#\x00") and len(topic) <= 512
