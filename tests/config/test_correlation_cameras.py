"""A correlation rule limited to cameras and zones (the demo's junction rule): it loads into
the domain rule, one event may be enough, and an unknown camera or zone is a located error."""

from __future__ import annotations

from cityops.config import load_config_text
from cityops.domain.rules import CorrelationRule
from tests.config.snippets import CAMERA, HEAD, issues

RULE = """\
rules:
  - id: junction
    kind: correlation
    event_kinds: [stopped_vehicle]
    cameras: [cam-1]
    zones: [school-yard]
    min_count: 1
    radius_m: 150
    within: 10min
    incident: {type: road_accident, sector: transport, severity: severe, title: Stopped}
"""
"""Lines 14-23 after HEAD + CAMERA: cameras on 18, zones on 19, min_count on 20."""


def test_a_camera_correlation_becomes_the_domain_rule() -> None:
    (rule,) = load_config_text(HEAD + CAMERA + RULE, "t.yaml").rules
    assert isinstance(rule, CorrelationRule)
    assert (rule.cameras, rule.zones, rule.min_count) == (("cam-1",), ("school-yard",), 1)
    assert (rule.radius_m, rule.window_s) == (150.0, 600.0)


def test_unknown_cameras_and_zones_and_no_events_are_located_errors() -> None:
    text = RULE.replace("[cam-1]", "[cam-1, cam-404]").replace("[school-yard]", "[gate]")
    found = issues(HEAD + CAMERA + text.replace("min_count: 1", "min_count: 0"))
    assert len(found) == 1  # the schema first: min_count >= 1
    assert found[0].startswith("t.yaml:20:")
    found = issues(HEAD + CAMERA + text)
    assert [f.split(": ")[0] for f in found] == ["t.yaml:18:22", "t.yaml:19:13"]
    assert "cam-404" in found[0]
    assert "zone 'gate' is not defined on cam-1" in found[1]
