"""Replaying real sensor series over MQTT, as if the devices were sending them now.

``load_series`` reads the files (formats in ``cityops.sim.replay_formats``); ``replay`` maps
each quantity onto a configured sensor and publishes the readings in batches, optionally paced
(``speed`` x real time) and shifted so that the last reading lands at the current time.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import SensorKind
from cityops.domain.observations import Reading
from cityops.sim.publisher import Publisher
from cityops.sim.replay_formats import (
    CsvFormat,
    ReadStats,
    ReplayFormatError,
    ReplayRow,
    Series,
    detect_format,
    load_series,
)

__all__ = [
    "QUANTITY_KINDS",
    "CsvFormat",
    "ReadStats",
    "ReplayFormatError",
    "ReplayRow",
    "ReplayStats",
    "ReplayTarget",
    "Series",
    "default_mapping",
    "detect_format",
    "load_series",
    "replay",
    "replay_files",
]


@dataclass(frozen=True, slots=True)
class ReplayTarget:
    """The sensor a quantity is published as, with an optional linear conversion
    (published value = value * scale + offset), e.g. to lift a gauge's local datum."""

    sensor_id: str
    scale: float = 1.0
    offset: float = 0.0


@dataclass(slots=True)
class ReplayStats:
    published: int = 0
    skipped: int = 0
    """Rows with an empty or NaN value."""
    unmapped: int = 0
    """Rows of a quantity the mapping does not name."""
    bad: int = 0
    """Rows the reader could not use (see ``reasons``)."""
    reasons: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    first_ts: datetime | None = None
    """First published timestamp (after shifting)."""
    last_ts: datetime | None = None
    shift: timedelta = timedelta(0)
    per_sensor: Counter[str] = field(default_factory=Counter)
    stopped: bool = False
    """The replay was stopped before the end."""


# What a quantity of the readers measures, to map it onto a configured sensor by default.
QUANTITY_KINDS: dict[str, SensorKind] = {
    "P1": SensorKind.PM10,
    "P2": SensorKind.PM25,
    "temperature": SensorKind.TEMPERATURE,
    "humidity": SensorKind.HUMIDITY,
    "level": SensorKind.RIVER_LEVEL,
    "rainfall": SensorKind.RAINFALL,
    "traffic_volume": SensorKind.TRAFFIC_COUNT,
    # Sofia station param codes
    "0": SensorKind.PM10,
    "1": SensorKind.NO2,
    "5": SensorKind.O3,
    "7": SensorKind.HUMIDITY,
    "9": SensorKind.WIND_SPEED,
    "11": SensorKind.TEMPERATURE,
}


def default_mapping(
    quantities: Iterable[str], config: MunicipalityConfig
) -> dict[str, ReplayTarget]:
    """Each known quantity onto the first configured sensor (by id) of the matching kind."""
    mapping: dict[str, ReplayTarget] = {}
    for quantity in quantities:
        kind = QUANTITY_KINDS.get(quantity) or QUANTITY_KINDS.get(quantity.lower())
        if kind is None:
            continue
        sensors = sorted((s for s in config.sensors if s.kind is kind), key=lambda s: s.id)
        if sensors:
            mapping[quantity] = ReplayTarget(sensors[0].id)
    return mapping


def _target(mapping: Mapping[str, str | ReplayTarget], row: ReplayRow) -> ReplayTarget | None:
    found = mapping.get(f"{row.source}/{row.quantity}") if row.source else None
    if found is None:
        found = mapping.get(row.quantity)
    if found is None:
        return None
    return found if isinstance(found, ReplayTarget) else ReplayTarget(found)


def replay(
    rows: Iterable[ReplayRow],
    mapping: Mapping[str, str | ReplayTarget],
    municipality: str,
    publisher: Publisher,
    speed: float | None = None,
    shift_to_now: bool = False,
    *,
    now: datetime | None = None,
    batch_size: int = 1000,
    read_stats: ReadStats | None = None,
    stop_event: threading.Event | None = None,
    progress: Callable[[ReplayStats], None] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> ReplayStats:
    """Publish ``rows`` as readings of the sensors ``mapping`` names.

    ``mapping`` keys are quantities (``P1``) or ``source/quantity`` (``4/0`` for Sofia station
    4's PM). ``speed=None`` publishes as fast as the broker acknowledges; ``speed=60`` plays an
    hour of data in a minute. ``shift_to_now`` moves every timestamp by the same amount so that
    the last reading lands at ``now`` (default: the current time). Rows without a value are
    skipped and counted; ``read_stats`` (from the reader) adds its bad-row counts to the result.
    """
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be positive or None, got {speed}")
    stats = ReplayStats()
    if read_stats is not None:
        stats.bad = read_stats.bad
        stats.reasons.update(read_stats.reasons)
    planned: list[tuple[datetime, ReplayTarget, float]] = []
    for row in rows:
        target = _target(mapping, row)
        if target is None:
            stats.unmapped += 1
        elif math.isnan(row.value) or math.isinf(row.value):
            stats.skipped += 1
        else:
            planned.append((row.ts, target, row.value * target.scale + target.offset))
    planned.sort(key=lambda p: p[0])
    if not planned:
        return stats
    if shift_to_now:
        stats.shift = (now or datetime.now(UTC)) - planned[-1][0]
    origin = planned[0][0]
    started = monotonic()
    batch: list[Reading] = []

    def send() -> None:
        if batch:
            publisher.publish_readings(municipality, batch)
            stats.messages += 1
            batch.clear()
            if progress is not None:
                progress(stats)

    for ts, target, value in planned:
        if speed is not None:
            wait = (ts - origin).total_seconds() / speed - (monotonic() - started)
            if wait > 0:
                send()
                if stop_event is not None:
                    stats.stopped = stop_event.wait(wait)
                else:
                    sleep(wait)
        if stop_event is not None and stop_event.is_set():
            stats.stopped = True
            break
        shifted = ts + stats.shift
        batch.append(Reading(municipality, target.sensor_id, shifted, round(value, 6)))
        stats.published += 1
        stats.per_sensor[target.sensor_id] += 1
        stats.first_ts = stats.first_ts or shifted
        stats.last_ts = shifted
        if len(batch) >= batch_size:
            send()
    send()
    publisher.flush()
    return stats


def replay_files(
    paths: Path | str | Sequence[Path | str],
    config: MunicipalityConfig,
    publisher: Publisher,
    *,
    mapping: Mapping[str, str | ReplayTarget] | None = None,
    speed: float | None = None,
    shift_to_now: bool = True,
    stations: Collection[str] | None = None,
    params: Collection[str] | None = None,
    now: datetime | None = None,
    stop_event: threading.Event | None = None,
    progress: Callable[[ReplayStats], None] | None = None,
) -> tuple[Series, ReplayStats]:
    """``cityops replay FILE...``: read, map (by default onto the first sensor of each
    quantity's kind), publish. Unknown sensors in ``mapping`` raise ValueError before anything
    is sent."""
    series = load_series(paths, stations=stations, params=params)
    chosen = dict(mapping) if mapping is not None else default_mapping(series.quantities(), config)
    for key, target in chosen.items():
        sensor_id = target.sensor_id if isinstance(target, ReplayTarget) else target
        if config.sensor(sensor_id) is None:
            raise ValueError(
                f"mapping {key!r}: no sensor {sensor_id!r} in {config.municipality.id}"
            )
    stats = replay(
        series.rows,
        chosen,
        config.municipality.id,
        publisher,
        speed,
        shift_to_now,
        now=now,
        read_stats=series.stats,
        stop_event=stop_event,
        progress=progress,
    )
    return series, stats
