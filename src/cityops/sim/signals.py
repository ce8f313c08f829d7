"""Plausible sensor signals for a small town, deterministic given a seed.

Every generator is a pure function of (seed, sensor, time): the same seed gives the same series
whatever order readings are asked for in, and a scenario can ask for the undisturbed value at any
time. Daily cycles run on the municipality's local time; the result is clamped to the sensor's
valid range, so the ingest never rejects a simulated reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from cityops.domain.entities import Sensor, SensorKind

DEFAULT_INTERVAL_S = 60.0
"""Seconds between readings of a sensor without ``expected_interval_s``."""

_DAY_S = 86_400.0
_MASK64 = (1 << 64) - 1


def sensor_interval_s(sensor: Sensor) -> float:
    interval = sensor.expected_interval_s
    return interval if interval is not None and interval > 0 else DEFAULT_INTERVAL_S


def stable_hash(*parts: object) -> int:
    """A 64-bit hash of ``parts`` that, unlike ``hash()``, is the same in every process."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        for byte in str(part).encode():
            h = _mix(h ^ byte)
        h = _mix(h ^ 0xFF)
    return h


def _mix(x: int) -> int:
    """splitmix64 finaliser."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


def uniform(key: int, n: int) -> float:
    """A deterministic uniform number in [0, 1) for (key, n)."""
    return _mix((key ^ (n * 0xD6E8FEB86659FD93)) & _MASK64) / float(1 << 64)


def gauss(key: int, n: int) -> float:
    """A deterministic standard-normal number for (key, n) (Box-Muller)."""
    u1 = max(uniform(key, 2 * n), 1e-12)
    u2 = uniform(key, 2 * n + 1)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def bump(hour: float, centre: float, width: float) -> float:
    """A Gaussian bump on the 24-hour circle: 1 at ``centre``, ``width`` hours wide (sigma)."""
    d = (hour - centre + 12.0) % 24.0 - 12.0
    return math.exp(-(d * d) / (2.0 * width * width))


@dataclass(frozen=True, slots=True)
class Moment:
    """One instant seen by the generators."""

    t: float
    """Unix seconds."""
    hour: float
    """Local hour of day, 0..24."""
    winter: float
    """1 in mid-January, 0 in mid-July."""
    weekend: bool
    doy: int


class SignalModel:
    """Baseline values for every sensor of one municipality."""

    def __init__(self, seed: int = 0, timezone: str = "Europe/Sofia") -> None:
        self.seed = seed
        self.tz = ZoneInfo(timezone)
        self._generators: dict[SensorKind, Callable[[Sensor, Moment], float]] = {
            SensorKind.RIVER_LEVEL: self._river_level,
            SensorKind.RAINFALL: self._rainfall,
            SensorKind.PM10: self._pm10,
            SensorKind.PM25: self._pm25,
            SensorKind.NO2: self._no2,
            SensorKind.O3: self._o3,
            SensorKind.TEMPERATURE: self._temperature,
            SensorKind.HUMIDITY: self._humidity,
            SensorKind.TRAFFIC_COUNT: self._traffic,
            SensorKind.NOISE: self._noise_level,
            SensorKind.WIND_SPEED: self._wind,
        }

    def moment(self, ts: datetime) -> Moment:
        local = ts.astimezone(self.tz)
        doy = local.timetuple().tm_yday
        hour = local.hour + local.minute / 60.0 + local.second / 3600.0
        winter = 0.5 * (1.0 + math.cos(2.0 * math.pi * (doy - 15) / 365.25))
        return Moment(ts.timestamp(), hour, winter, local.weekday() >= 5, doy)

    def value(self, sensor: Sensor, ts: datetime) -> float:
        """The sensor's undisturbed reading at ``ts``, rounded and within its valid range."""
        raw = self.raw(sensor, ts)
        return clamp(sensor, round(raw, _DECIMALS.get(sensor.kind, 2)))

    def raw(self, sensor: Sensor, ts: datetime) -> float:
        gen = self._generators.get(sensor.kind, self._other)
        return gen(sensor, self.moment(ts))

    # helpers -------------------------------------------------------------------------------

    def _key(self, *parts: object) -> int:
        return stable_hash(self.seed, *parts)

    def _drift(
        self, key: int, t: float, periods_h: tuple[float, ...] = (31.0, 57.0, 113.0)
    ) -> float:
        """Slow smooth variation in [-1, 1] (weather, day-to-day differences)."""
        total = 0.0
        for i, period in enumerate(periods_h):
            phase = 2.0 * math.pi * uniform(key, 1000 + i)
            total += math.sin(2.0 * math.pi * t / (period * 3600.0) + phase)
        return total / len(periods_h)

    def _noise(self, sensor: Sensor, m: Moment, salt: str = "") -> float:
        return gauss(self._key("noise", sensor.id, salt), int(m.t))

    def _scale(self, sensor: Sensor, low: float, high: float) -> float:
        """A per-sensor constant in [low, high) (site differences)."""
        return low + (high - low) * uniform(self._key("scale", sensor.id), 0)

    # generators ----------------------------------------------------------------------------

    def _pm10(self, sensor: Sensor, m: Moment) -> float:
        # Tuned so that the baseline rarely stays above the EU limits (PM10 50, PM2.5 35 µg/m³)
        # for an hour: exceedances are what the pollution scenario is for.
        traffic = 0.6 if m.weekend else 1.0
        base = 12.0 + 8.0 * m.winter
        rush = traffic * (14.0 * bump(m.hour, 8.0, 1.3) + 10.0 * bump(m.hour, 18.5, 1.6))
        heating = 13.0 * m.winter * bump(m.hour, 20.5, 2.2)
        day = 1.0 + 0.15 * self._drift(self._key("pm-weather"), m.t)
        site = self._scale(sensor, 0.9, 1.1)
        noise = 1.0 + 0.1 * self._noise(sensor, m)
        return max(1.0, (base + rush + heating) * day * site * noise)

    def _pm25(self, sensor: Sensor, m: Moment) -> float:
        ratio = 0.5 + 0.12 * m.winter + 0.03 * self._noise(sensor, m, "ratio")
        return self._pm10(sensor, m) * ratio

    def _no2(self, sensor: Sensor, m: Moment) -> float:
        traffic = 0.6 if m.weekend else 1.0
        base = 10.0 + 6.0 * m.winter
        rush = traffic * (35.0 * bump(m.hour, 8.0, 1.2) + 30.0 * bump(m.hour, 18.0, 1.5))
        day = 1.0 + 0.2 * self._drift(self._key("no2-weather"), m.t)
        noise = 1.0 + 0.1 * self._noise(sensor, m)
        return max(1.0, (base + rush) * day * self._scale(sensor, 0.8, 1.2) * noise)

    def _o3(self, sensor: Sensor, m: Moment) -> float:
        sun = bump(m.hour, 15.0, 3.0)
        value = 25.0 + (15.0 + 45.0 * (1.0 - m.winter)) * sun
        return max(1.0, value * (1.0 + 0.08 * self._noise(sensor, m)))

    def _temperature_parts(self, sensor: Sensor, m: Moment) -> tuple[float, float, float]:
        """(seasonal mean, diurnal term in [-1, 1], weather drift in [-1, 1])."""
        mean = 11.5 - 12.0 * math.cos(2.0 * math.pi * (m.doy - 20) / 365.25)
        diurnal = math.cos(2.0 * math.pi * (m.hour - 15.0) / 24.0)
        weather = self._drift(self._key("weather"), m.t)
        return mean + self._scale(sensor, -0.8, 0.8), diurnal, weather

    def _temperature(self, sensor: Sensor, m: Moment) -> float:
        mean, diurnal, weather = self._temperature_parts(sensor, m)
        amplitude = 4.0 + 3.0 * (1.0 - m.winter)
        return mean + amplitude * diurnal + 3.0 * weather + 0.3 * self._noise(sensor, m)

    def _humidity(self, sensor: Sensor, m: Moment) -> float:
        _, diurnal, weather = self._temperature_parts(sensor, m)
        value = 66.0 + 8.0 * m.winter - 16.0 * diurnal - 6.0 * weather
        return min(100.0, max(15.0, value + 2.0 * self._noise(sensor, m)))

    def _river_level(self, sensor: Sensor, m: Moment) -> float:
        key = self._key("river", sensor.id)
        slow = math.sin(2.0 * math.pi * m.t / (6.0 * _DAY_S) + 6.28 * uniform(key, 1))
        daily = math.sin(2.0 * math.pi * m.t / (29.0 * 3600.0) + 6.28 * uniform(key, 2))
        return 1.0 + 0.12 * slow + 0.05 * daily + 0.004 * self._noise(sensor, m)

    def rain_rate_mm_h(self, t: float) -> float:
        """Municipality-wide rain intensity: mostly dry, with showers of 20-90 min."""
        block_s = 3.0 * 3600.0
        block = math.floor(t / block_s)
        rate = 0.0
        for b in (block - 1, block):  # a shower may spill over from the previous block
            key = self._key("shower", b)
            if uniform(key, 0) >= 0.12:
                continue
            start = b * block_s + uniform(key, 1) * block_s
            length = (20.0 + 70.0 * uniform(key, 2)) * 60.0
            if start <= t < start + length:
                peak = 1.0 + 11.0 * uniform(key, 3)
                rate += peak * math.sin(math.pi * (t - start) / length)
        return rate

    def _rainfall(self, sensor: Sensor, m: Moment) -> float:
        rate = self.rain_rate_mm_h(m.t)
        if rate <= 0.0:
            return 0.0
        rate *= max(0.0, 1.0 + 0.15 * self._noise(sensor, m))
        return rainfall_value(sensor, rate)

    def traffic_profile(self, m: Moment) -> float:
        """Relative traffic, about 0.03 at night and 1 at the evening peak."""
        weekday = (
            0.03
            + 0.85 * bump(m.hour, 8.0, 1.1)
            + 0.5 * bump(m.hour, 12.5, 2.5)
            + 0.95 * bump(m.hour, 17.5, 1.4)
            + 0.15 * bump(m.hour, 21.0, 2.0)
        )
        weekend = 0.03 + 0.6 * bump(m.hour, 12.0, 3.5) + 0.25 * bump(m.hour, 19.0, 2.0)
        return weekend if m.weekend else weekday

    def _traffic(self, sensor: Sensor, m: Moment) -> float:
        rate = self.traffic_profile(m) * self._scale(sensor, 600.0, 1200.0)
        rate = max(0.0, rate + math.sqrt(rate) * self._noise(sensor, m))
        unit = sensor.unit.strip().lower()
        if unit in ("vehicles", "veh", "count"):
            return round(rate * sensor_interval_s(sensor) / 3600.0)
        if unit.endswith("/min"):
            return round(rate / 60.0)
        return round(rate)

    def _noise_level(self, sensor: Sensor, m: Moment) -> float:
        level = 43.0 + 21.0 * min(1.0, self.traffic_profile(m))
        return level + self._scale(sensor, -2.0, 3.0) + 1.5 * self._noise(sensor, m)

    def _wind(self, sensor: Sensor, m: Moment) -> float:
        value = 2.2 + 1.5 * self._drift(self._key("wind"), m.t) + 1.2 * bump(m.hour, 14.0, 4.0)
        return max(0.0, value + 0.6 * abs(self._noise(sensor, m)))

    def _other(self, sensor: Sensor, m: Moment) -> float:
        low, high = sensor.valid_min, sensor.valid_max
        if low is not None and high is not None:
            middle = (low + high) / 2.0
            return middle + 0.05 * (high - low) * self._noise(sensor, m)
        return 1.0 + 0.05 * self._noise(sensor, m)


def rainfall_value(sensor: Sensor, rate_mm_h: float) -> float:
    """A rain rate expressed in the sensor's unit: mm/h as is, else mm per reading interval."""
    if "/h" in sensor.unit.replace(" ", "").lower():
        return rate_mm_h
    return rate_mm_h * sensor_interval_s(sensor) / 3600.0


def clamp(sensor: Sensor, value: float) -> float:
    if sensor.valid_min is not None and value < sensor.valid_min:
        return sensor.valid_min
    if sensor.valid_max is not None and value > sensor.valid_max:
        return sensor.valid_max
    return value


_DECIMALS: dict[SensorKind, int] = {
    SensorKind.RIVER_LEVEL: 3,
    SensorKind.RAINFALL: 2,
    SensorKind.PM10: 1,
    SensorKind.PM25: 1,
    SensorKind.NO2: 1,
    SensorKind.O3: 1,
    SensorKind.TEMPERATURE: 1,
    SensorKind.HUMIDITY: 1,
    SensorKind.TRAFFIC_COUNT: 0,
    SensorKind.NOISE: 1,
    SensorKind.WIND_SPEED: 1,
}
