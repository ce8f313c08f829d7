"""Scenarios that happen in the cameras' rendered scenes instead of as published events.

With the demo's cameras showing scenes CityOps renders itself (``synthetic://``, see
``cityops.domain.scenes``), the accident at the crossing and the intruder in the school yard are
scripted in the scene: the video worker sees them in the pixels and its analytics publish the
events. The simulator then publishes nothing for them; this scenario says when they happen (the
schedule is in the cameras' ``demo_stream_url``) and stops simulating the counter sensors that
the cameras' counting lines feed, from its start on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Sensor
from cityops.domain.scenes import SceneKind, SceneSpec, is_synthetic
from cityops.sim.base import ScenarioError, SimEvent


@dataclass(frozen=True, slots=True)
class RenderedScenario:
    """Scripted runs of the ``scene`` of some cameras, from ``start`` on (no end)."""

    start: datetime
    scene: SceneKind
    cameras: tuple[tuple[str, SceneSpec], ...]
    counted_sensors: frozenset[str] = frozenset()
    """Sensors the cameras' counting lines feed: the worker publishes them, not the simulator."""
    name: str = "rendered"

    @property
    def end(self) -> datetime | None:
        return None

    def runs(self, start: datetime, end: datetime) -> list[tuple[datetime, str]]:
        """(start of a script run, camera id) for runs starting in [start, end), in order."""
        t0, t1 = max(start, self.start).timestamp(), end.timestamp()
        out = [
            (datetime.fromtimestamp(s, UTC), camera_id)
            for camera_id, spec in self.cameras
            for s in spec.script_starts(t0, t1)
        ]
        return sorted(out)

    def adjust(self, sensor: Sensor, ts: datetime, value: float) -> float | None:
        if sensor.id in self.counted_sensors and ts >= self.start:
            return None
        return value

    def events(self, start: datetime, end: datetime) -> Iterable[SimEvent]:
        return ()  # the video worker reports what happens, from the pixels


def counted_sensors(config: MunicipalityConfig) -> frozenset[str]:
    """Every sensor a camera's counting line feeds."""
    return frozenset(
        sensor_id
        for camera in config.cameras
        if camera.analytics is not None
        for line in camera.analytics.lines
        for sensor_id in line.sensors.values()
    )


def rendered(
    config: MunicipalityConfig,
    start: datetime,
    scene: SceneKind,
    *,
    name: str | None = None,
) -> RenderedScenario:
    """The scripted runs of ``scene`` on the cameras whose demo stream shows it with a schedule
    and whose analytics watch it; ScenarioError when there is none."""
    cameras = []
    for camera in sorted(config.cameras, key=lambda c: c.id):
        url = camera.demo_stream_url
        if camera.analytics is None or url is None or not is_synthetic(url):
            continue
        spec = SceneSpec.parse(url)
        if spec.scene is scene and (spec.every_s is not None or spec.at):
            cameras.append((camera.id, spec))
    if not cameras:
        raise ScenarioError(f"rendered: no camera with analytics shows a scripted {scene} scene")
    return RenderedScenario(
        start, scene, tuple(cameras), counted_sensors(config), name or f"{scene}-rendered"
    )
