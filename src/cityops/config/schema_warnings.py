"""The ``public_warnings:`` section: the municipality's outline and region codes that CAP
alerts are matched against, and the CAP feeds to poll (docs/CAP.md, docs/CONFIG.md)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, StringConstraints, field_validator, model_validator
from shapely.geometry import Polygon

from cityops.config.base import Model
from cityops.config.fields import PositiveDuration, WebhookUrl
from cityops.config.schema_dispatch import EnvName, SecretPath
from cityops.domain.entities import LonLat
from cityops.domain.warnings import CapEndpoint, CapFeed, EndpointKind, PublicWarnings

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


class CapEndpointModel(Model):
    id: Code
    url: WebhookUrl
    kind: EndpointKind
    secret_env: EnvName | None = Field(
        default=None, description="Environment variable holding the endpoint's HMAC secret"
    )
    secret_file: SecretPath | None = Field(
        default=None, description="File holding the endpoint's HMAC secret"
    )

    @model_validator(mode="after")
    def _secret(self) -> Self:
        named = (self.secret_env is not None) + (self.secret_file is not None)
        if named > 1:
            raise ValueError("name one of secret_env or secret_file")
        if self.kind is EndpointKind.BG_ALERT and not named:
            raise ValueError("a bg-alert endpoint needs a secret (secret_env or secret_file)")
        return self

    def to_domain(self) -> CapEndpoint:
        return CapEndpoint(self.id, self.url, self.kind, self.secret_env, self.secret_file)


class PublicWarningsModel(Model):
    boundary: list[tuple[float, float]] = Field(min_length=3, max_length=5000)
    """[[lon, lat], ...] around the municipality."""
    geocodes: dict[Code, list[Code]] = Field(default_factory=dict, max_length=20)
    feeds: list[CapFeedModel] = Field(default_factory=list, max_length=20)
    endpoints: list[CapEndpointModel] = Field(default_factory=list, max_length=20)

    @field_validator("endpoints")
    @classmethod
    def _unique(cls, value: list[CapEndpointModel]) -> list[CapEndpointModel]:
        ids = [e.id for e in value]
        if len(set(ids)) != len(ids):
            raise ValueError("endpoint ids must be unique")
        return value

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
            endpoints=tuple(e.to_domain() for e in self.endpoints),
        )
