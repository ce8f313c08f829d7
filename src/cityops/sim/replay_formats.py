"""Readers for the real sensor series CityOps can replay, detected from the CSV header.

- sensor.community (luftdaten) archive: ``sensor_id;sensor_type;location;lat;lon;timestamp;P1;...``
  (semicolons, UTC timestamps such as ``2018-01-12T00:01:03``; SDS011 P1 = PM10, P2 = PM2.5,
  DHT22 temperature/humidity);
- UK Environment Agency hydrology 15-minute CSV: ``measure,dateTime,date,value,...`` (UTC; the
  quantity, e.g. ``level`` or ``rainfall``, is read from the measure's URL);
- Sofia air-monitoring stations: ``timest,station,param,level,station_name,...`` (rows shuffled:
  sorted here; filter by station and param; the quantity is the param code);
- the I-94 traffic-volume CSV: ``...,date_time,traffic_volume`` (hourly, US Central time).

Readers never raise on a bad row: they count it in ``ReadStats`` and go on.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

SOFIA_TZ = ZoneInfo("Europe/Sofia")
"""The Sofia files' naive times are taken as local time (the municipality's archive)."""
I94_TZ = ZoneInfo("America/Chicago")
"""The I-94 data set's times are US Central local time."""


class ReplayFormatError(ValueError):
    """The file is not one of the CSV formats CityOps can replay."""


class CsvFormat(StrEnum):
    SENSOR_COMMUNITY = "sensor.community"
    EA_HYDROLOGY = "ea-hydrology"
    SOFIA_AIR = "sofia-air"
    TRAFFIC_I94 = "i94-traffic"


@dataclass(frozen=True, slots=True)
class ReplayRow:
    ts: datetime
    """Timezone-aware UTC."""
    quantity: str
    """``P1``, ``P2``, ``temperature``, ``humidity``, ``level``, ``rainfall``, a Sofia code."""
    value: float
    """NaN when the file has no value for this row (the replay skips and counts it)."""
    source: str = ""
    """The device or station in the file (sensor.community sensor id, Sofia station id)."""


@dataclass(slots=True)
class ReadStats:
    rows: int = 0
    """Data lines read."""
    bad: int = 0
    """Lines or values that could not be used (garbage, missing columns, non-numeric)."""
    filtered: int = 0
    """Lines left out by a station/param filter."""
    reasons: Counter[str] = field(default_factory=Counter)

    def reject(self, reason: str) -> None:
        self.bad += 1
        self.reasons[reason] += 1


_SC_FIXED = {"sensor_id", "sensor_type", "location", "lat", "lon", "timestamp"}


def detect_format(header: str) -> CsvFormat:
    """The format whose header ``header`` (the file's first line) is."""
    names = {n.strip().strip('"').lower() for n in re.split(r"[;,]", header.lstrip("\ufeff"))}
    if {"sensor_id", "timestamp"} <= names and ";" in header:
        return CsvFormat.SENSOR_COMMUNITY
    if {"measure", "datetime", "value"} <= names:
        return CsvFormat.EA_HYDROLOGY
    if {"timest", "station", "param", "level"} <= names:
        return CsvFormat.SOFIA_AIR
    if {"date_time", "traffic_volume"} <= names:
        return CsvFormat.TRAFFIC_I94
    raise ReplayFormatError(f"unknown CSV header: {header.strip()[:120]!r}")


def parse_ts(text: str, naive_tz: tzinfo = UTC) -> datetime:
    """An ISO 8601 timestamp (``T`` or space, optional ``Z``/offset) as aware UTC."""
    ts = datetime.fromisoformat(text.strip())
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=naive_tz)
    return ts.astimezone(UTC)


def parse_value(text: str) -> float:
    """A number; NaN for an empty cell; ValueError for anything else that is not a number."""
    cleaned = text.strip()
    if not cleaned or cleaned.lower() in ("nan", "null", "none", "na", "n/a", "-"):
        return math.nan
    value = float(cleaned)
    return value if math.isfinite(value) else math.nan


def _rows(lines: Iterable[str], delimiter: str, stats: ReadStats) -> Iterator[list[str]]:
    """CSV records, one per line; a line the csv module cannot parse is counted, not fatal."""
    for line in lines:
        if not line.strip():
            continue
        try:
            record = next(csv.reader([line.replace("\x00", "")], delimiter=delimiter))
        except (csv.Error, StopIteration):
            stats.rows += 1
            stats.reject("unparseable line")
            continue
        stats.rows += 1
        yield record


class _Columns:
    """Column positions from a header, and the checked extraction of a record."""

    def __init__(self, header: str, delimiter: str, required: Sequence[str]) -> None:
        names = next(csv.reader([header.lstrip("\ufeff")], delimiter=delimiter))
        self.names = [n.strip().lower() for n in names]
        self.index = {n: i for i, n in enumerate(self.names)}
        missing = [c for c in required if c not in self.index]
        if missing:
            raise ReplayFormatError(f"missing columns {missing} in header {header.strip()!r}")
        self.required = required
        self.needed = max(self.index[c] for c in required) + 1

    def get(self, record: Sequence[str], name: str) -> str:
        i = self.index[name]
        return record[i] if i < len(record) else ""

    def complete(self, record: Sequence[str], stats: ReadStats) -> bool:
        if len(record) < self.needed:
            stats.reject("missing columns")
            return False
        return True


def _split_header(lines: Iterable[str]) -> tuple[str, Iterator[str]]:
    it = iter(lines)
    for line in it:
        if line.strip():
            return line, it
    raise ReplayFormatError("empty file")


def read_sensor_community(
    lines: Iterable[str], stats: ReadStats, naive_tz: tzinfo = UTC
) -> Iterator[ReplayRow]:
    header, body = _split_header(lines)
    cols = _Columns(header, ";", ["sensor_id", "timestamp"])
    values = [
        n for n in cols.names if n and n not in _SC_FIXED and not n.startswith(("dur", "ratio"))
    ]
    original = {n.strip().lower(): n.strip() for n in header.lstrip("\ufeff").split(";")}
    for record in _rows(body, ";", stats):
        if not cols.complete(record, stats):
            continue
        try:
            ts = parse_ts(cols.get(record, "timestamp"), naive_tz)
        except ValueError:
            stats.reject("bad timestamp")
            continue
        source = cols.get(record, "sensor_id").strip()
        for name in values:
            try:
                value = parse_value(cols.get(record, name))
            except ValueError:
                stats.reject(f"non-numeric {original.get(name, name)}")
                continue
            yield ReplayRow(ts, original.get(name, name), value, source)


_EA_MEASURE = re.compile(r"^[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}-([A-Za-z]+)")


def ea_quantity(measure: str) -> str:
    """``level``, ``rainfall``, ``flow``... from an EA measure URL (``value`` if not found)."""
    last = measure.strip().rstrip("/").rsplit("/", 1)[-1]
    match = _EA_MEASURE.match(last)
    if match:
        return match.group(1).lower()
    words = [w for w in re.split(r"[-_]", last) if w.isalpha()]
    return words[0].lower() if words else "value"


def read_ea_hydrology(
    lines: Iterable[str], stats: ReadStats, naive_tz: tzinfo = UTC
) -> Iterator[ReplayRow]:
    header, body = _split_header(lines)
    cols = _Columns(header, ",", ["measure", "datetime", "value"])
    for record in _rows(body, ",", stats):
        if not cols.complete(record, stats):
            continue
        try:
            ts = parse_ts(cols.get(record, "datetime"), naive_tz)
        except ValueError:
            stats.reject("bad timestamp")
            continue
        try:
            value = parse_value(cols.get(record, "value"))
        except ValueError:
            stats.reject("non-numeric value")
            continue
        measure = cols.get(record, "measure")
        source = measure.rstrip("/").rsplit("/", 1)[-1][:36]
        yield ReplayRow(ts, ea_quantity(measure), value, source)


def _matches(wanted: Collection[str] | None, *names: str) -> bool:
    if wanted is None:
        return True
    folded = {w.strip().lower() for w in wanted}
    return any(n.strip().lower() in folded for n in names)


def read_sofia_air(
    lines: Iterable[str],
    stats: ReadStats,
    naive_tz: tzinfo = SOFIA_TZ,
    *,
    stations: Collection[str] | None = None,
    params: Collection[str] | None = None,
) -> Iterator[ReplayRow]:
    """Rows of the chosen stations (id or name) and params (code or name), sorted by time."""
    header, body = _split_header(lines)
    cols = _Columns(header, ",", ["timest", "station", "param", "level"])
    has_names = "station_name" in cols.index and "param_name" in cols.index
    out: list[ReplayRow] = []
    for record in _rows(body, ",", stats):
        if not cols.complete(record, stats):
            continue
        station, param = cols.get(record, "station").strip(), cols.get(record, "param").strip()
        station_name = cols.get(record, "station_name") if has_names else station
        param_name = cols.get(record, "param_name") if has_names else param
        if not (_matches(stations, station, station_name) and _matches(params, param, param_name)):
            stats.filtered += 1
            continue
        try:
            ts = parse_ts(cols.get(record, "timest"), naive_tz)
        except ValueError:
            stats.reject("bad timestamp")
            continue
        try:
            value = parse_value(cols.get(record, "level"))
        except ValueError:
            stats.reject("non-numeric level")
            continue
        out.append(ReplayRow(ts, param, value, station))
    out.sort(key=lambda r: (r.ts, r.source, r.quantity))
    return iter(out)


def read_traffic_i94(
    lines: Iterable[str], stats: ReadStats, naive_tz: tzinfo = I94_TZ
) -> Iterator[ReplayRow]:
    header, body = _split_header(lines)
    cols = _Columns(header, ",", ["date_time", "traffic_volume"])
    for record in _rows(body, ",", stats):
        if not cols.complete(record, stats):
            continue
        try:
            ts = parse_ts(cols.get(record, "date_time"), naive_tz)
            value = parse_value(cols.get(record, "traffic_volume"))
        except ValueError:
            stats.reject("bad timestamp or traffic_volume")
            continue
        yield ReplayRow(ts, "traffic_volume", value, "I-94")


Reader = Callable[[Iterable[str], ReadStats], Iterator[ReplayRow]]
READERS: dict[CsvFormat, Reader] = {
    CsvFormat.SENSOR_COMMUNITY: read_sensor_community,
    CsvFormat.EA_HYDROLOGY: read_ea_hydrology,
    CsvFormat.SOFIA_AIR: read_sofia_air,
    CsvFormat.TRAFFIC_I94: read_traffic_i94,
}


@dataclass(slots=True)
class Series:
    """Everything read from one or more files of one format, in time order."""

    format: CsvFormat
    rows: list[ReplayRow]
    stats: ReadStats
    files: tuple[Path, ...] = ()

    def quantities(self) -> Counter[str]:
        return Counter(r.quantity for r in self.rows)


def first_line(path: Path) -> str:
    with path.open(encoding="utf-8-sig", errors="replace") as f:
        for line in f:
            if line.strip():
                return line
    raise ReplayFormatError(f"{path}: empty file")


def read_file(
    path: Path,
    stats: ReadStats | None = None,
    *,
    stations: Collection[str] | None = None,
    params: Collection[str] | None = None,
) -> tuple[CsvFormat, list[ReplayRow], ReadStats]:
    """Detect ``path``'s format and read all of it (not sorted, except Sofia's)."""
    stats = stats if stats is not None else ReadStats()
    fmt = detect_format(first_line(path))
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as f:
        if fmt is CsvFormat.SOFIA_AIR:
            rows = list(read_sofia_air(f, stats, stations=stations, params=params))
        else:
            rows = list(READERS[fmt](f, stats))
    return fmt, rows, stats


def load_series(
    paths: Path | str | Sequence[Path | str],
    *,
    stations: Collection[str] | None = None,
    params: Collection[str] | None = None,
) -> Series:
    """Read one or more files of the same format (e.g. a week of daily sensor.community
    archives) into one series sorted by time."""
    files = [Path(paths)] if isinstance(paths, str | Path) else [Path(p) for p in paths]
    if not files:
        raise ReplayFormatError("no files given")
    stats = ReadStats()
    rows: list[ReplayRow] = []
    formats: set[CsvFormat] = set()
    for path in files:
        fmt, found, _ = read_file(path, stats, stations=stations, params=params)
        formats.add(fmt)
        rows.extend(found)
    if len(formats) > 1:
        raise ReplayFormatError(f"files of different formats: {sorted(formats)}")
    rows.sort(key=lambda r: r.ts)
    return Series(formats.pop(), rows, stats, tuple(files))
