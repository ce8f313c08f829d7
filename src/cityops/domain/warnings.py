"""Which public warnings (CAP alerts) concern a municipality, and where they come from
(the ``public_warnings:`` configuration section, docs/CAP.md)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from cityops.domain.entities import LonLat


@dataclass(frozen=True, slots=True)
class CapFeed:
    """An Atom/RSS feed of CAP alerts, polled every ``interval_s``."""

    url: str
    interval_s: float = 300.0


@dataclass(frozen=True, slots=True)
class PublicWarnings:
    boundary: tuple[LonLat, ...]
    """The municipality's outline (WGS 84 ring): an alert area that meets it concerns it."""
    geocodes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Region codes that stand for the municipality in alerts, e.g. ``EMMA_ID: {BG004}``."""
    feeds: tuple[CapFeed, ...] = ()
