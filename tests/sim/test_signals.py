from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Sensor
from cityops.sim.signals import SignalModel

TZ = ZoneInfo("Europe/Sofia")
WINTER_WEEK = datetime(2026, 1, 12, tzinfo=TZ)  # a Monday
SUMMER_WEEK = datetime(2026, 7, 13, tzinfo=TZ)


def _sensor(config: MunicipalityConfig, sensor_id: str) -> Sensor:
    sensor = config.sensor(sensor_id)
    assert sensor is not None
    return sensor


def _mean_at(model: SignalModel, sensor: Sensor, week: datetime, hour: float) -> float:
    """The mean over seven days of the value at local ``hour``."""
    values = [
        model.value(sensor, week + timedelta(days=d, hours=hour) + timedelta(minutes=m))
        for d in range(7)
        for m in range(0, 30, 5)
    ]
    return statistics.fmean(values)


@pytest.mark.parametrize("week", [WINTER_WEEK, SUMMER_WEEK])
def test_every_value_is_finite_and_within_the_sensors_valid_range(
    config: MunicipalityConfig, week: datetime
) -> None:
    model = SignalModel(seed=11, timezone="Europe/Sofia")
    for sensor in config.sensors:
        for step in range(0, 7 * 24 * 60, 7):
            value = model.value(sensor, week + timedelta(minutes=step))
            assert math.isfinite(value)
            assert sensor.check_value(value) is None, (sensor.id, value)


@pytest.mark.parametrize("week", [WINTER_WEEK, SUMMER_WEEK])
def test_pm10_peaks_at_the_morning_rush_and_is_low_at_night(
    config: MunicipalityConfig, week: datetime
) -> None:
    model = SignalModel(seed=3)
    pm10 = _sensor(config, "aq-centre-pm10")
    assert _mean_at(model, pm10, week, 8.0) > 1.3 * _mean_at(model, pm10, week, 3.0)
    assert _mean_at(model, pm10, week, 18.5) > _mean_at(model, pm10, week, 3.0)


def test_winter_evening_heating_raises_pm_more_than_in_summer(config: MunicipalityConfig) -> None:
    model = SignalModel(seed=3)
    pm10 = _sensor(config, "aq-centre-pm10")
    winter = _mean_at(model, pm10, WINTER_WEEK, 20.5) - _mean_at(model, pm10, WINTER_WEEK, 3.0)
    summer = _mean_at(model, pm10, SUMMER_WEEK, 20.5) - _mean_at(model, pm10, SUMMER_WEEK, 3.0)
    assert winter > summer + 8.0
    pm25 = _sensor(config, "aq-centre-pm25")
    assert _mean_at(model, pm25, WINTER_WEEK, 8.0) < _mean_at(model, pm10, WINTER_WEEK, 8.0)


def test_no2_peaks_at_both_rush_hours(config: MunicipalityConfig) -> None:
    model = SignalModel(seed=5)
    no2 = _sensor(config, "aq-centre-no2")
    night = _mean_at(model, no2, WINTER_WEEK, 3.0)
    assert _mean_at(model, no2, WINTER_WEEK, 8.0) > 2.0 * night
    assert _mean_at(model, no2, WINTER_WEEK, 18.0) > 2.0 * night


def test_temperature_follows_the_sun_and_humidity_the_opposite(
    config: MunicipalityConfig,
) -> None:
    model = SignalModel(seed=7)
    temp, hum = _sensor(config, "meteo-temp"), _sensor(config, "meteo-hum")
    for week in (WINTER_WEEK, SUMMER_WEEK):
        assert _mean_at(model, temp, week, 15.0) > _mean_at(model, temp, week, 5.0) + 4.0
        assert _mean_at(model, hum, week, 15.0) < _mean_at(model, hum, week, 5.0) - 10.0
    assert _mean_at(model, temp, SUMMER_WEEK, 12.0) > _mean_at(model, temp, WINTER_WEEK, 12.0) + 15


def test_traffic_and_noise_have_morning_and_evening_peaks(config: MunicipalityConfig) -> None:
    model = SignalModel(seed=9)
    traffic, noise = _sensor(config, "traffic-centre"), _sensor(config, "noise-centre")
    week = WINTER_WEEK
    night = _mean_at(model, traffic, week, 3.0)
    assert _mean_at(model, traffic, week, 8.0) > 10 * night
    assert _mean_at(model, traffic, week, 17.5) > 10 * night
    assert _mean_at(model, traffic, week, 8.0) > _mean_at(model, traffic, week, 11.0)
    assert _mean_at(model, noise, week, 17.5) > _mean_at(model, noise, week, 3.0) + 12.0


def test_river_base_flow_stays_between_0_8_and_1_2_m(config: MunicipalityConfig) -> None:
    model = SignalModel(seed=13)
    for gauge in ("tundzha-1", "tundzha-2", "tundzha-3"):
        sensor = _sensor(config, gauge)
        values = [
            model.value(sensor, WINTER_WEEK + timedelta(minutes=m))
            for m in range(0, 30 * 24 * 60, 10)
        ]
        assert min(values) >= 0.8
        assert max(values) <= 1.2
        assert max(values) - min(values) > 0.1  # it does vary


def test_rainfall_is_mostly_zero_with_showers(config: MunicipalityConfig) -> None:
    model = SignalModel(seed=17)
    rain = _sensor(config, "rain-1")
    values = [model.value(rain, WINTER_WEEK + timedelta(minutes=m)) for m in range(0, 30 * 24 * 60)]
    wet = [v for v in values if v > 0]
    assert len(wet) < 0.2 * len(values)
    assert len(wet) > 100  # several showers in a month
    assert max(values) < 1.0  # mm per minute


def _series(model: SignalModel, sensor: Sensor) -> list[float]:
    start = datetime(2026, 5, 1, tzinfo=UTC)
    return [model.value(sensor, start + timedelta(minutes=m)) for m in range(0, 2000, 13)]


@pytest.mark.parametrize("sensor_id", ["aq-centre-pm10", "meteo-temp", "traffic-centre"])
def test_signals_are_deterministic_given_the_seed(
    config: MunicipalityConfig, sensor_id: str
) -> None:
    sensor = _sensor(config, sensor_id)
    series: Callable[[int], list[float]] = lambda seed: _series(SignalModel(seed), sensor)  # noqa: E731
    assert series(1) == series(1)
    assert series(1) != series(2)
