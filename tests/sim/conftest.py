"""A small Kazanlak-like municipality built directly from domain values (no YAML loader)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Camera, LonLat, Municipality, Sensor, SensorKind
from cityops.domain.geo import projection_for

CENTRE = LonLat(25.3929, 42.6194)
NOW = datetime(2026, 1, 21, 10, 17, 23, tzinfo=UTC)
"""A winter weekday, 12:17 in Kazanlak."""


def _at(dx: float, dy: float) -> LonLat:
    """A position dx metres east, dy metres north of the centre."""
    p = projection_for(CENTRE).to_lonlat(dx, dy)
    return LonLat(round(p.lon, 7), round(p.lat, 7))


def _sensor(
    sid: str, kind: SensorKind, unit: str, lo: float, hi: float, dx: float, dy: float, **kw: float
) -> Sensor:
    return Sensor(sid, "kazanlak", sid, kind, unit, _at(dx, dy), lo, hi, **kw)


def make_config() -> MunicipalityConfig:
    square = (0.1, 0.5), (0.9, 0.5), (0.9, 0.95), (0.1, 0.95)
    cameras = (
        # the crossing: 80 m apart, facing each other
        Camera("cam-west", "kazanlak", "West", _at(-40.0, 0.0), 90.0, 70.0, 150.0),
        Camera("cam-east", "kazanlak", "East", _at(40.0, 0.0), 270.0, 70.0, 150.0),
        # closer together, but back to back: they do not both see their midpoint
        Camera("cam-b1", "kazanlak", "B1", _at(500.0, 500.0), 0.0, 60.0, 100.0),
        Camera("cam-b2", "kazanlak", "B2", _at(520.0, 500.0), 90.0, 60.0, 100.0),
        # a second crossing farther apart
        Camera("cam-n1", "kazanlak", "N1", _at(-800.0, 600.0), 0.0, 90.0, 200.0),
        Camera("cam-n2", "kazanlak", "N2", _at(-800.0, 760.0), 180.0, 90.0, 200.0),
        Camera(
            "cam-school",
            "kazanlak",
            "School",
            _at(300.0, -300.0),
            45.0,
            90.0,
            60.0,
            zones={"school-yard": square},
        ),
    )
    sensors = (
        # the Tundzha gauges, deliberately listed out of river order
        _sensor("tundzha-2", SensorKind.RIVER_LEVEL, "m", 0.0, 6.0, 0.0, -2500.0),
        _sensor("tundzha-1", SensorKind.RIVER_LEVEL, "m", 0.0, 6.0, -4000.0, -2600.0),
        _sensor("tundzha-3", SensorKind.RIVER_LEVEL, "m", 0.0, 6.0, 3500.0, -2400.0),
        _sensor("rain-1", SensorKind.RAINFALL, "mm", 0.0, 100.0, 0.0, 800.0),
        _sensor("aq-centre-pm10", SensorKind.PM10, "µg/m³", 0.0, 1000.0, 0.0, 0.0),
        _sensor("aq-centre-pm25", SensorKind.PM25, "µg/m³", 0.0, 1000.0, 0.0, 0.0),
        _sensor("aq-east-pm10", SensorKind.PM10, "µg/m³", 0.0, 1000.0, 1500.0, 200.0),
        _sensor("aq-centre-no2", SensorKind.NO2, "µg/m³", 0.0, 1000.0, 0.0, 0.0),
        _sensor("aq-centre-o3", SensorKind.O3, "µg/m³", 0.0, 500.0, 0.0, 0.0),
        _sensor("meteo-temp", SensorKind.TEMPERATURE, "°C", -40.0, 50.0, 100.0, 100.0),
        _sensor("meteo-hum", SensorKind.HUMIDITY, "%", 0.0, 100.0, 100.0, 100.0),
        _sensor("meteo-wind", SensorKind.WIND_SPEED, "m/s", 0.0, 60.0, 100.0, 100.0),
        _sensor("traffic-centre", SensorKind.TRAFFIC_COUNT, "vehicles/h", 0.0, 5000.0, 0.0, 50.0),
        _sensor("noise-centre", SensorKind.NOISE, "dB(A)", 20.0, 130.0, 0.0, 50.0),
        _sensor(
            "level-hourly", SensorKind.OTHER, "hPa", 900.0, 1100.0, 0.0, 0.0,
            expected_interval_s=900.0,
        ),
    )  # fmt: skip
    return MunicipalityConfig(
        Municipality("kazanlak", "Kazanlak", "Europe/Sofia", CENTRE),
        cameras=cameras,
        sensors=sensors,
    )


@pytest.fixture(scope="session")
def config() -> MunicipalityConfig:
    return make_config()
