"""A municipality as the running control center holds it: configuration, rules, geometry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.engine import RuleEngine
from cityops.domain.entities import Camera, LonLat, Sensor
from cityops.domain.geo import LocalProjection, projection_for
from cityops.domain.staleness import DEFAULT_STALE_FACTOR
from cityops.domain.visibility import cameras_seeing


@dataclass(slots=True)
class MunicipalityRuntime:
    config: MunicipalityConfig
    engine: RuleEngine
    projection: LocalProjection
    sensors: dict[str, Sensor] = field(default_factory=dict)
    cameras: dict[str, Camera] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.config.municipality.id

    @classmethod
    def build(
        cls, config: MunicipalityConfig, *, stale_factor: float = DEFAULT_STALE_FACTOR
    ) -> MunicipalityRuntime:
        """``stale_factor``: a sensor silent for that many expected intervals is stale."""
        m = config.municipality
        center = m.center or _first_position(config) or LonLat(0.0, 0.0)
        return cls(
            config=config,
            engine=RuleEngine(
                m, config.rules, config.sensors, config.cameras, stale_factor=stale_factor
            ),
            projection=projection_for(center),
            sensors={s.id: s for s in config.sensors},
            cameras={c.id: c for c in config.cameras},
        )

    def rebuild(self) -> MunicipalityRuntime:
        """A fresh runtime of the same configuration and options (rule state not restored)."""
        return MunicipalityRuntime.build(self.config, stale_factor=self.engine.staleness.factor)

    def cameras_seeing(self, place: LonLat) -> list[dict[str, Any]]:
        return [
            {
                "camera_id": v.camera_id,
                "distance_m": round(v.distance_m, 1),
                "bearing_deg": round(v.bearing_deg, 1),
            }
            for v in cameras_seeing(place, self.cameras.values(), self.projection)
        ]


def _first_position(config: MunicipalityConfig) -> LonLat | None:
    positions = [c.position for c in config.cameras] + [s.position for s in config.sensors]
    return positions[0] if positions else None
