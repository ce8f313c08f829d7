"""The ``public_warnings:`` section: the municipality's outline and region codes that CAP
alerts are matched against, and the CAP feeds to poll (docs/CAP.md, docs/CONFIG.md)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator
from shapely.geometry import Polygon

from cityops.config.base import Model
from cityops.config.fields import PositiveDuration, WebhookUrl
from cityops.domain.entities import LonLat
from cityops.domain.warnings import CapFeed, PublicWarnings

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class CapFeedModel(Model):
    url: WebhookUrl
    every: PositiveDuration = 300.0

    @field_validator("every")
    @classmethod
    def _not_too_often(cls, value: float) -> float:
        if value < 30:
            raise ValueError("poll a feed at most every 30s")
        return value


class PublicWarningsModel(Model):
    boundary: list[tuple[float, float]] = Field(min_length=3, max_length=5000)
    """[[lon, lat], ...] around the municipality."""
    geocodes: dict[Code, list[Code]] = Field(default_factory=dict, max_length=20)
    feeds: list[CapFeedModel] = Field(default_factory=list, max_length=20)

    @field_validator("boundary")
    @classmethod
    def _outline(cls, value: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for lon, lat in value:
            LonLat(lon, lat)  # says which point is out of range
        if not Polygon(value).is_valid:
            raise ValueError("the boundary must be a simple polygon (no self-crossing)")
        return value

    def to_domain(self) -> PublicWarnings:
        return PublicWarnings(
            boundary=tuple(LonLat(lon, lat) for lon, lat in self.boundary),
            geocodes={k: frozenset(v) for k, v in self.geocodes.items()},
            feeds=tuple(CapFeed(f.url, f.every) for f in self.feeds),
        )
