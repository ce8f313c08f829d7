"""Checks across sections, run once every section has the right shape.

Each problem names the path of the offending value in the file (``rules[2].incident.agency``);
the loader turns paths into line and column.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from cityops.config.fields import format_duration
from cityops.config.schema import CameraModel, ConfigFile, KeyObjectModel, SensorModel
from cityops.config.schema_analytics import LineModel
from cityops.config.schema_requests import sharing_problems as request_problems
from cityops.config.schema_rules import (
    CameraEventModel,
    CorrelationModel,
    RateOfChangeModel,
    SilenceModel,
    ThresholdModel,
)
from cityops.config.schema_sharing import problems as sharing_problems
from cityops.domain.entities import SensorKind

Path = tuple[str | int, ...]

MIN_LINE_LENGTH = 0.01
"""The shortest counting line, in image fractions (shorter ones are a typo, or count nothing)."""

MAX_DISTANCE_KM = 100.0
"""Anything placed farther than this from the municipality's centre is most likely a typo
(or longitude and latitude swapped)."""


@dataclass(frozen=True, slots=True)
class Problem:
    path: Path
    message: str
    related: Path | None = None
    """Another place the message refers to (the first definition of a duplicate id)."""


def cross_check(cfg: ConfigFile, taken_prefixes: Mapping[str, str] | None = None) -> list[Problem]:
    """``taken_prefixes``: Frigate topic prefixes other municipalities use (prefix -> id)."""
    problems: list[Problem] = []
    for section, ids in (
        ("agencies", [a.id for a in cfg.agencies]),
        ("key_objects", [k.id for k in cfg.key_objects]),
        ("cameras", [c.id for c in cfg.cameras]),
        ("sensors", [s.id for s in cfg.sensors]),
        ("rules", [r.id for r in cfg.rules]),
    ):
        problems += _duplicates((section,), "id", ids)
    problems += _duplicates(("sops",), "incident_type", [s.incident_type for s in cfg.sops])
    for i, sop in enumerate(cfg.sops):
        problems += _duplicates(("sops", i, "steps"), "id", [step.id for step in sop.steps])
    problems += _sensor_ranges(cfg.sensors)
    problems += _analytics(cfg)
    problems += _references(cfg)
    problems += _positions(cfg)
    problems += _frigate(cfg, taken_prefixes or {})
    agency_ids = [a.id for a in cfg.agencies]
    problems += [Problem(p, m) for p, m in sharing_problems(cfg.sharing, agency_ids)]
    problems += [Problem(p, m) for p, m in request_problems(cfg.sharing, agency_ids)]
    return problems


def _frigate(cfg: ConfigFile, taken: Mapping[str, str]) -> list[Problem]:
    """Frigate's cameras map to cameras of this municipality; its topic prefix is its own."""
    if cfg.frigate is None:
        return []
    cameras = {c.id for c in cfg.cameras}
    problems = [
        Problem(("frigate", "cameras", name), _unknown("camera", cid, cameras))
        for name, cid in cfg.frigate.cameras.items()
        if cid not in cameras
    ]
    prefix = cfg.frigate.topic_prefix
    other = taken.get(prefix)
    if other is not None and other != cfg.municipality.id:
        problems.append(
            Problem(
                ("frigate", "topic_prefix"),
                f"topic prefix {prefix!r} is already used by municipality {other!r}: "
                "each municipality's Frigate needs a prefix of its own",
            )
        )
    return problems


def _duplicates(section: Path, key: str, values: Sequence[str]) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for i, value in enumerate(values):
        if value in first:
            problems.append(
                Problem((*section, i, key), f"duplicate {key} {value!r}", (*section, first[value]))
            )
        else:
            first[value] = i
    return problems


def _sensor_ranges(sensors: Sequence[SensorModel]) -> list[Problem]:
    return [
        Problem(
            ("sensors", i, "valid_min"),
            f"valid_min {s.valid_min:g} is greater than valid_max {s.valid_max:g}",
        )
        for i, s in enumerate(sensors)
        if s.valid_min is not None and s.valid_max is not None and s.valid_min > s.valid_max
    ]


def _unknown(what: str, name: str, known: Iterable[str]) -> str:
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown {what} {name!r}; did you mean {close[0]!r}?"
    if not known:
        return f"unknown {what} {name!r}; none is defined"
    listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "")
    return f"unknown {what} {name!r} (defined: {listed})"


def _references(cfg: ConfigFile) -> list[Problem]:
    agencies = {a.id for a in cfg.agencies}
    sensors = {s.id: s for s in cfg.sensors}
    cameras = {c.id: c for c in cfg.cameras}
    problems: list[Problem] = []
    for i, rule in enumerate(cfg.rules):
        agency = rule.incident.agency
        if agency is not None and agency not in agencies:
            problems.append(
                Problem(("rules", i, "incident", "agency"), _unknown("agency", agency, agencies))
            )
        if isinstance(rule, CameraEventModel | CorrelationModel):
            problems += _camera_rule(i, rule, cameras)
        elif isinstance(rule, ThresholdModel | RateOfChangeModel | SilenceModel):
            for j, sid in enumerate(rule.sensors):
                if sid not in sensors:
                    problems.append(
                        Problem(("rules", i, "sensors", j), _unknown("sensor", sid, sensors))
                    )
            if isinstance(rule, SilenceModel):
                problems += _silence_vs_interval(i, rule, cfg.sensors)
    for i, sop in enumerate(cfg.sops):
        for j, step in enumerate(sop.steps):
            if step.agency is not None and step.agency not in agencies:
                problems.append(
                    Problem(
                        ("sops", i, "steps", j, "agency"), _unknown("agency", step.agency, agencies)
                    )
                )
    return problems


def zone_ids(camera: CameraModel) -> set[str]:
    """The zones events of the camera may name: its ``zones:`` and its analytics zones."""
    analytics = [z.id for z in camera.analytics.zones] if camera.analytics else []
    return set(camera.zones) | set(analytics)


def _camera_rule(
    i: int, rule: CameraEventModel | CorrelationModel, cameras: dict[str, CameraModel]
) -> list[Problem]:
    problems = []
    for j, cid in enumerate(rule.cameras):
        if cid not in cameras:
            problems.append(Problem(("rules", i, "cameras", j), _unknown("camera", cid, cameras)))
    named = [cameras[cid] for cid in rule.cameras if cid in cameras]
    for j, zone in enumerate(rule.zones):
        if rule.cameras:
            if named and not any(zone in zone_ids(c) for c in named):
                listed = ", ".join(c.id for c in named)
                problems.append(
                    Problem(("rules", i, "zones", j), f"zone {zone!r} is not defined on {listed}")
                )
        elif not any(zone in zone_ids(c) for c in cameras.values()):
            problems.append(Problem(("rules", i, "zones", j), f"no camera defines zone {zone!r}"))
    return problems


def _analytics(cfg: ConfigFile) -> list[Problem]:
    """Zone and line ids unique on each camera; counting lines well drawn, each feeding counter
    sensors of its own."""
    problems: list[Problem] = []
    fed: dict[str, Path] = {}
    for i, camera in enumerate(cfg.cameras):
        if camera.analytics is None:
            continue
        at: Path = ("cameras", i, "analytics")
        problems += _duplicates((*at, "zones"), "id", [z.id for z in camera.analytics.zones])
        problems += _duplicates((*at, "lines"), "id", [ln.id for ln in camera.analytics.lines])
        for j, line in enumerate(camera.analytics.lines):
            length = math.dist(line.a, line.b)
            if length < MIN_LINE_LENGTH:
                problems.append(
                    Problem(
                        (*at, "lines", j, "b"),
                        f"the line's ends a and b are {length:.3g} apart: they must be distinct "
                        f"(at least {MIN_LINE_LENGTH:g} of the image apart)",
                    )
                )
            problems += _counter_sensors((*at, "lines", j, "sensors"), line, cfg, fed)
    return problems


_COUNTER_KINDS = frozenset({SensorKind.TRAFFIC_COUNT, SensorKind.OTHER})


def _counter_sensors(
    at: Path, line: LineModel, cfg: ConfigFile, fed: dict[str, Path]
) -> list[Problem]:
    """The line's sensors exist, count things, and no other line or direction feeds them."""
    sensors = {s.id: s for s in cfg.sensors}
    problems: list[Problem] = []
    for direction, sid in line.sensors.items():
        where = (*at, direction.value)
        sensor = sensors.get(sid)
        if sensor is None:
            problems.append(Problem(where, _unknown("sensor", sid, sensors)))
        elif sensor.kind not in _COUNTER_KINDS:
            problems.append(
                Problem(
                    where,
                    f"sensor {sid!r} is a {sensor.kind.value} sensor: a line's counts go to "
                    "sensors of kind traffic_count (or other)",
                )
            )
        elif sid in fed:
            problems.append(
                Problem(where, f"sensor {sid!r} is already fed by another count", fed[sid])
            )
        fed.setdefault(sid, where)
    return problems


def _silence_vs_interval(
    i: int, rule: SilenceModel, sensors: Sequence[SensorModel]
) -> list[Problem]:
    selector = rule.selector()
    too_slow = [
        s
        for s in sensors
        if s.expected_interval_s is not None
        and (s.id in selector.sensor_ids or s.kind in selector.kinds)
        and s.expected_interval_s >= rule.silence
    ]
    if not too_slow:
        return []
    s = too_slow[0]
    more = f" (and {len(too_slow) - 1} more)" if len(too_slow) > 1 else ""
    return [
        Problem(
            ("rules", i, "silence"),
            f"{format_duration(rule.silence)} is not longer than the expected interval of sensor "
            f"{s.id!r}{more} ({format_duration(s.expected_interval_s or 0.0)}): "
            "it would fire between normal readings",
        )
    ]


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(min(1.0, math.sqrt(a)))


def _positions(cfg: ConfigFile) -> list[Problem]:
    center = cfg.municipality.center
    if center is None:
        return []
    problems = []
    placed: tuple[tuple[str, Sequence[KeyObjectModel | CameraModel | SensorModel]], ...] = (
        ("key_objects", cfg.key_objects),
        ("cameras", cfg.cameras),
        ("sensors", cfg.sensors),
    )
    for section, items in placed:
        for i, item in enumerate(items):
            km = _km(center.lon, center.lat, item.lon, item.lat)
            if km > MAX_DISTANCE_KM:
                problems.append(
                    Problem(
                        (section, i, "lon"),
                        f"position is {km:.0f} km from the municipality centre "
                        f"(more than {MAX_DISTANCE_KM:g} km; longitude and latitude swapped?)",
                    )
                )
    return problems
