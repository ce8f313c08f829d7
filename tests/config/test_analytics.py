"""The ``analytics:`` block of a camera: a valid block becomes the domain's CameraAnalytics; a
malformed zone, line or detector is a clear error at its line and column."""

from __future__ import annotations

from datetime import time

import pytest

from cityops.config import load_config_text
from cityops.domain.analytics import (
    DetectorKind,
    LineDirection,
    ObjectClass,
    TimeWindow,
    ZoneKind,
)
from cityops.domain.rules import CameraEventRule
from tests.config import snippets
from tests.config.snippets import HEAD, issues

CAMERA = (
    snippets.CAMERA[: snippets.CAMERA.index("    zones:")]
    + """\
    demo_stream_url: synthetic://crossing?seed=2&night=auto&tz=Europe/Sofia
    analytics:
      fps: 5
      detector: {kind: hog, min_confidence: 0.4, classes: [person]}
      zones:
        - id: yard
          polygon: [[0.1, 0.5], [0.9, 0.5], [0.9, 0.95], [0.1, 0.95]]
          kind: intrusion
          classes: [person]
          schedule: ["21:00-06:00"]
          loiter_s: 2min
        - id: junction
          polygon: [[0.2, 0.4], [0.8, 0.4], [0.8, 0.7]]
          classes: [vehicle]
          stopped_s: 30s
      lines:
        - id: lane-in
          a: [0.1, 0.8]
          b: [0.9, 0.8]
          sensors: {forward: count-in, backward: count-out}
          interval_s: 1min
"""
)
"""Lines 4-32 after HEAD: zones[0] at 17 (polygon 18, classes 20, schedule 21), zones[1] at 23
(polygon 24), the line at 28 (b 30, sensors 31)."""

SENSORS = """\
sensors:
  - {id: river-1, name: River, kind: river_level, unit: m, lon: 25.39, lat: 42.62}
  - {id: count-in, name: In, kind: traffic_count, unit: vehicles/min, lon: 25.39, lat: 42.62}
  - {id: count-out, name: Out, kind: traffic_count, unit: vehicles/min, lon: 25.39, lat: 42.62}
"""


def _with(old: str, new: str) -> str:
    assert old in CAMERA
    return HEAD + CAMERA.replace(old, new) + SENSORS


def test_an_analytics_block_becomes_the_cameras_analytics() -> None:
    config = load_config_text(HEAD + CAMERA + SENSORS, "t.yaml")
    (camera,) = config.cameras
    assert camera.demo_stream_url == "synthetic://crossing?seed=2&night=auto&tz=Europe/Sofia"
    assert camera.stream_url is None
    analytics = camera.analytics
    assert analytics is not None
    assert analytics.fps == 5.0
    assert analytics.detector.kind is DetectorKind.HOG
    assert analytics.detector.min_confidence == 0.4
    assert analytics.detector.classes == frozenset({ObjectClass.PERSON})
    yard, junction = analytics.zones
    assert yard.kind is ZoneKind.INTRUSION
    assert yard.classes == frozenset({ObjectClass.PERSON})
    assert yard.schedule.windows == (TimeWindow(time(21, 0), time(6, 0)),)
    assert yard.schedule.active(time(23, 30))
    assert not yard.schedule.active(time(12, 0))
    assert yard.loiter_s == 120.0
    assert junction.stopped_s == 30.0
    assert junction.kind is ZoneKind.PRESENCE
    (line,) = analytics.lines
    assert line.sensors == {LineDirection.FORWARD: "count-in", LineDirection.BACKWARD: "count-out"}
    assert line.classes == frozenset({ObjectClass.VEHICLE})
    assert line.interval_s == 60.0
    assert analytics.tamper.enabled
    assert not analytics.blur_people


def test_defaults_of_an_empty_block() -> None:
    text = HEAD + CAMERA[: CAMERA.index("    analytics:")] + "    analytics: {}\n"
    config = load_config_text(text, "t.yaml")
    analytics = config.cameras[0].analytics
    assert analytics is not None
    assert analytics.detector.kind is DetectorKind.MOTION_BLOB
    assert analytics.detector.classes == frozenset(
        {ObjectClass.PERSON, ObjectClass.VEHICLE, ObjectClass.BICYCLE}
    )
    assert analytics.zones == ()
    assert analytics.fps == 5.0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "[[0.2, 0.4], [0.8, 0.4], [0.8, 0.7]]",
            "[[0.2, 0.4], [0.8, 0.7], [0.8, 0.4], [0.3, 0.8]]",
            "t.yaml:24:11: cameras[0].analytics.zones[1].polygon: the polygon's edges cross at "
            "(0.569, 0.585): list its points in order around its outline",
        ),
        (
            "[[0.2, 0.4], [0.8, 0.4], [0.8, 0.7]]",
            "[[0.2, 0.4], [0.5, 0.4], [0.8, 0.4]]",
            "t.yaml:24:11: cameras[0].analytics.zones[1].polygon: the polygon has no area "
            "(its points are on one line)",
        ),
        (
            "[[0.2, 0.4], [0.8, 0.4], [0.8, 0.7]]",
            "[[0.2, 0.4], [0.8, 0.4]]",
            "t.yaml:24:11: cameras[0].analytics.zones[1].polygon: List should have at least 3 "
            "items after validation, not 2",
        ),
        (
            "[0.9, 0.95], [0.1, 0.95]]",
            "[0.9, 1.5], [0.1, 0.95]]",
            "t.yaml:18:51: cameras[0].analytics.zones[0].polygon[2][1]: Input should be less "
            "than or equal to 1",
        ),
        (
            "b: [0.9, 0.8]",
            "b: [0.1, 0.8]",
            "t.yaml:30:11: cameras[0].analytics.lines[0].b: the line's ends a and b are 0 apart: "
            "they must be distinct (at least 0.01 of the image apart)",
        ),
        (
            "b: [0.9, 0.8]",
            "b: [0.9]",
            "t.yaml:30:11: cameras[0].analytics.lines[0].b[1]: Field required",
        ),
        (
            "backward: count-out",
            "backward: count-ot",
            "t.yaml:31:40: cameras[0].analytics.lines[0].sensors.backward: unknown sensor "
            "'count-ot'; did you mean 'count-out'?",
        ),
        (
            "backward: count-out",
            "backward: count-in",
            "t.yaml:31:40: cameras[0].analytics.lines[0].sensors.backward: sensor 'count-in' "
            "is already fed by another count (first at line 31)",
        ),
        (
            "backward: count-out",
            "backward: river-1",
            "t.yaml:31:40: cameras[0].analytics.lines[0].sensors.backward: sensor 'river-1' is "
            "a river_level sensor: a line's counts go to sensors of kind traffic_count (or other)",
        ),
        (
            "backward: count-out",
            "sideways: count-out",
            "t.yaml:31:40: cameras[0].analytics.lines[0].sensors.sideways: Input should be "
            "'forward' or 'backward'",
        ),
        (
            "- id: junction",
            "- id: yard",
            "t.yaml:23:11: cameras[0].analytics.zones[1].id: duplicate id 'yard' "
            "(first at line 17)",
        ),
        (
            '"21:00-06:00"',
            '"21:00-25:00"',
            "t.yaml:21:22: cameras[0].analytics.zones[0].schedule[0]: write a time window as "
            "'HH:MM-HH:MM', e.g. '22:00-06:00'; hours are 00-23 and minutes 00-59",
        ),
        (
            "kind: hog,",
            "kind: onnx,",
            "t.yaml:15:7: cameras[0].analytics.detector: an onnx detector needs model_path: the "
            ".onnx file on the worker's host (see docs/VIDEO.md, Detectors)",
        ),
        (
            "kind: hog,",
            "kind: hog, model_path: /models/x.onnx,",
            "t.yaml:15:7: cameras[0].analytics.detector: model_path is only for kind onnx, not hog",
        ),
        (
            "classes: [person]}",
            "classes: [person, car]}",
            "t.yaml:15:68: cameras[0].analytics.detector.classes[1]: Input should be 'person', "
            "'vehicle', 'bicycle' or 'other'",
        ),
        (
            "classes: [person]\n",
            "classes: [person, person]\n",
            "t.yaml:20:11: cameras[0].analytics.zones[0].classes: a class is named twice",
        ),
        (
            "loiter_s: 2min",
            "loiter_s: 2m",
            "t.yaml:22:11: cameras[0].analytics.zones[0].loiter_s: write a duration such as "
            "'30s', '10min', '2h', '1h30min' or a number of seconds ('m' is ambiguous: write "
            "minutes as 'min'), not '2m'",
        ),
        (
            "fps: 5",
            "fpz: 5",
            "t.yaml:14:7: cameras[0].analytics.fpz: Extra inputs are not permitted",
        ),
        (
            "synthetic://crossing?seed=2",
            "synthetic://harbour?seed=2",
            "t.yaml:12:5: cameras[0].demo_stream_url: unknown scene 'harbour' (one of crossing, "
            "schoolyard, street)",
        ),
    ],
)
def test_a_malformed_zone_line_or_detector_is_reported_where_it_is(
    old: str, new: str, expected: str
) -> None:
    assert issues(_with(old, new)) == [expected]


RULE = """\
rules:
  - id: night
    kind: camera_event
    event_kinds: [intrusion]
    cameras: [cam-1]
    zones: [yard, junctoin]
    incident: {type: intrusion, sector: safety, severity: moderate, title: Night, agency: police}
"""


def test_camera_event_rules_find_analytics_zones() -> None:
    text = HEAD + CAMERA + SENSORS + RULE
    assert issues(text) == [
        "t.yaml:42:19: rules[0].zones[1]: zone 'junctoin' is not defined on cam-1"
    ]
    config = load_config_text(text.replace(", junctoin", ""), "t.yaml")
    (rule,) = config.rules
    assert isinstance(rule, CameraEventRule)
    assert rule.zones == ("yard",)
