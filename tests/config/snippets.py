"""YAML snippets shared by the configuration tests (line numbers matter: see each one)."""

from __future__ import annotations

import pytest

from cityops.config import ConfigError, load_config_text

# Three lines, so that the snippets appended to it start at line 4.
HEAD = (
    "municipality: {id: demo, name: Demo, center: {lon: 25.39, lat: 42.62}}\n"
    "agencies:\n"
    "  - {id: police, name: Police, kind: police}\n"
)

CAMERA = """\
cameras:
  - id: cam-1
    name: Cam 1
    lon: 25.39
    lat: 42.62
    heading_deg: 90
    fov_deg: 90
    range_m: 100
    zones:
      school-yard: [[0, 0], [1, 0], [1, 1]]
"""
"""Lines 4-13 after HEAD: fov_deg is on line 10, the zone on line 13."""

SENSOR = """\
sensors:
  - id: river-1
    name: River 1
    kind: river_level
    unit: m
    lon: 25.39
    lat: 42.62
    valid_min: 0
    valid_max: 8
    expected_interval_s: 5min
"""
"""Lines 4-13 after HEAD (or 14-23 after HEAD + CAMERA)."""


RULE = """\
rules:
  - id: r
    kind: threshold
    sensors: [river-1]
    op: ">"
    value: 2.8
    for: 10min
    incident: {type: flood, sector: disaster, severity: severe, title: Flood, agency: police}
"""
"""Lines 14-21 after HEAD + SENSOR: op on 18, for on 20, incident on 21."""


def issues(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "t.yaml")
    return [str(issue) for issue in info.value.issues]
