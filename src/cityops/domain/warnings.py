"""Which public warnings (CAP alerts) concern a municipality, and where they come from
(the ``public_warnings:`` configuration section, docs/CAP.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from cityops.domain.entities import LonLat


@dataclass(frozen=True, slots=True)
class CapFeed:
    """An Atom/RSS feed of CAP alerts, polled every ``interval_s``."""

    url: str
    interval_s: float = 300.0


class EndpointKind(StrEnum):
    BG_ALERT = "bg-alert"
    """A request package to the civil-protection operator who broadcasts (BG-ALERT): a JSON
    envelope carrying the signed CAP message (docs/CAP.md "Sending to endpoints")."""
    CAP_POST = "cap-post"
    """The CAP message itself, POSTed as ``application/cap+xml``."""


@dataclass(frozen=True, slots=True)
class CapEndpoint:
    """Where CityOps's own CAP messages are sent; the HMAC secret is named, never written
    (an environment variable or a file, as for dispatch webhooks)."""

    id: str
    url: str
    kind: EndpointKind
    secret_env: str | None = None
    secret_file: str | None = None


@dataclass(frozen=True, slots=True)
class PublicWarnings:
    boundary: tuple[LonLat, ...]
    """The municipality's outline (WGS 84 ring): an alert area that meets it concerns it."""
    geocodes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Region codes that stand for the municipality in alerts, e.g. ``EMMA_ID: {BG004}``."""
    feeds: tuple[CapFeed, ...] = ()
    endpoints: tuple[CapEndpoint, ...] = ()
    """Where each CAP message CityOps publishes is sent (docs/CAP.md)."""
