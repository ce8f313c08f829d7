"""Loading a configuration: a valid file field by field, schema errors and YAML syntax
errors, each reported at its line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from cityops.config import ConfigError, ConfigIssue, load_config, load_config_text
from cityops.domain.entities import SensorKind
from cityops.domain.rules import (
    CameraEventRule,
    Comparison,
    RateOfChangeRule,
    ThresholdRule,
)
from tests.config.snippets import CAMERA, HEAD, RULE, SENSOR, issues

# --- a small valid file, field by field ------------------------------------------------------

VALID = (
    HEAD
    + CAMERA
    + """\
sensors:
  - {id: pm-1, name: PM 1, kind: pm10, unit: ug/m3, lon: 25.39, lat: 42.62}
  - {id: river-1, name: River 1, kind: river_level, unit: m, lon: 25.39, lat: 42.62}
rules:
  - id: low
    kind: threshold
    sensors: [river-1]
    op: "<"
    value: 0.2
    for: 1h30min
    clear_value: 0.3
    incident: {type: drought, sector: environment, severity: minor, title: Low river}
  - id: fall
    kind: rate_of_change
    sensor_kinds: [river_level]
    fall: 0.5
    within: 30min
    incident: {type: drop, sector: disaster, severity: moderate, title: Drop, agency: police}
  - id: night
    kind: camera_event
    event_kinds: [person]
    cameras: [cam-1]
    zones: [school-yard]
    between: "22:00-06:00"
    incident: {type: intrusion, sector: safety, severity: moderate, title: Intrusion}
sops:
  - incident_type: intrusion
    title: Intrusion
    steps:
      - {id: look, text: Look at the camera., agency: police}
"""
)


def test_valid_file_maps_onto_the_domain() -> None:
    cfg = load_config_text(VALID, "t.yaml")
    low, fall, night = cfg.rules
    assert isinstance(low, ThresholdRule)
    assert (low.op, low.value, low.for_s, low.clear_value) == (Comparison.BELOW, 0.2, 5400.0, 0.3)
    assert low.outcome.agency is None
    assert isinstance(fall, RateOfChangeRule)
    assert (fall.change, fall.window_s, fall.sensors.kinds) == (
        -0.5,
        1800.0,
        (SensorKind.RIVER_LEVEL,),
    )
    assert isinstance(night, CameraEventRule)
    assert night.cameras == ("cam-1",)
    assert {rule.municipality for rule in cfg.rules} == {"demo"}
    assert cfg.sensors[0].unit == "µg/m³"
    cam = cfg.cameras[0]
    assert cam.zones == {"school-yard": ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))}
    assert cfg.sop_for("intrusion") is not None


def test_anchors_and_merge_keys_under_x_keys_are_allowed() -> None:
    text = HEAD + (
        "x-cam: &cam {lon: 25.39, lat: 42.62, heading_deg: 0, fov_deg: 90, range_m: 80}\n"
        "cameras:\n"
        "  - {<<: *cam, id: cam-a, name: A}\n"
        "  - {<<: *cam, id: cam-b, name: B, heading_deg: 180}\n"
    )
    cfg = load_config_text(text, "t.yaml")
    assert [(c.id, c.heading_deg, c.fov_deg) for c in cfg.cameras] == [
        ("cam-a", 0.0, 90.0),
        ("cam-b", 180.0, 90.0),
    ]


# --- schema errors, each at its line -----------------------------------------------------------


def test_value_out_of_range_names_line_column_and_field() -> None:
    text = HEAD + CAMERA.replace("fov_deg: 90", "fov_deg: 400")
    assert issues(text) == [
        "t.yaml:10:5: cameras[0].fov_deg: Input should be less than or equal to 360"
    ]


def test_error_str_lists_issues_one_per_line_in_file_order() -> None:
    text = HEAD + CAMERA.replace("fov_deg: 90", "fov_deg: 400").replace("lat: 42.62", "lat: 142")
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "kazanlak.yaml")
    assert str(info.value) == (
        "kazanlak.yaml:8:5: cameras[0].lat: Input should be less than or equal to 90\n"
        "kazanlak.yaml:10:5: cameras[0].fov_deg: Input should be less than or equal to 360"
    )
    assert info.value.issues[1] == ConfigIssue(
        "kazanlak.yaml", 10, 5, "cameras[0].fov_deg", "Input should be less than or equal to 360"
    )


def test_missing_field_points_at_its_item() -> None:
    text = HEAD + CAMERA.replace("    range_m: 100\n", "")
    assert issues(text) == ["t.yaml:5:5: cameras[0].range_m: Field required"]


def test_unknown_field_points_at_the_key() -> None:
    text = HEAD + CAMERA + "    colour: red\n"
    assert issues(text) == ["t.yaml:14:5: cameras[0].colour: Extra inputs are not permitted"]


def test_unknown_section() -> None:
    assert issues(HEAD + "camera: []\n") == ["t.yaml:4:1: camera: Extra inputs are not permitted"]


def test_zone_point_outside_the_image() -> None:
    text = HEAD + CAMERA.replace("[1, 1]]", "[1, 1.5]]")
    assert issues(text) == [
        "t.yaml:13:41: cameras[0].zones.school-yard[2][1]: Input should be less than or equal to 1"
    ]


def test_zone_with_two_points() -> None:
    text = HEAD + CAMERA.replace(", [1, 1]]", "]")
    assert issues(text) == [
        "t.yaml:13:7: cameras[0].zones.school-yard: "
        "List should have at least 3 items after validation, not 2"
    ]


def test_privacy_mask_on_a_line() -> None:
    text = HEAD + CAMERA + "    privacy_masks:\n      - [[0, 0], [0.5, 0.5], [1, 1]]\n"
    assert issues(text) == [
        "t.yaml:15:9: cameras[0].privacy_masks[0]: "
        "the polygon has no area (its points are on one line)"
    ]


def test_bad_zone_name() -> None:
    text = HEAD + CAMERA.replace("school-yard:", "School Yard:")
    assert issues(text) == [
        "t.yaml:13:7: cameras[0].zones['School Yard']: must be 1-64 characters of lowercase "
        "letters, digits, '-' or '_', starting with a letter or digit"
    ]


def test_unknown_enum_value() -> None:
    text = HEAD + "agencies:\n  - {id: fire, name: Fire, kind: firemen}\n"
    text = text.replace("agencies:\n  - {id: police, name: Police, kind: police}\n", "", 1)
    assert issues(text) == [
        "t.yaml:3:28: agencies[0].kind: Input should be 'police', 'fire_rescue', 'ambulance', "
        "'traffic_police', 'civil_protection', 'municipal_services', 'utility', 'social_care', "
        "'emergency_112' or 'other'"
    ]


def test_bad_timezone() -> None:
    text = "municipality: {id: demo, name: Demo, timezone: Europe/Kazanlak}\n"
    assert issues(text) == [
        "t.yaml:1:38: municipality.timezone: unknown time zone 'Europe/Kazanlak' "
        "(use an IANA name such as 'Europe/Sofia')"
    ]


def test_missing_municipality() -> None:
    assert issues("agencies: []\n") == ["t.yaml:1:1: municipality: Field required"]


def test_valid_rule_snippet_loads() -> None:
    cfg = load_config_text(HEAD + SENSOR + RULE, "t.yaml")
    rule = cfg.rules[0]
    assert isinstance(rule, ThresholdRule)
    assert rule.for_s == 600.0


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "kind: threshold",
            "kind: thresold",
            "t.yaml:16:5: rules[0].kind: unknown rule kind 'thresold': use one of threshold, "
            "rate_of_change, silence, camera_event, correlation",
        ),
        (
            "    kind: threshold\n",
            "",
            "t.yaml:15:5: rules[0]: missing 'kind': one of threshold, rate_of_change, silence, "
            "camera_event, correlation",
        ),
        ('op: ">"', 'op: ">="', "t.yaml:18:5: rules[0].op: Input should be '>' or '<'"),
        (
            "for: 10min",
            "for: 10m",
            "t.yaml:20:5: rules[0].for: write a duration such as '30s', '10min', '2h', "
            "'1h30min' or a number of seconds ('m' is ambiguous: write minutes as 'min'), "
            "not '10m'",
        ),
        (
            "for: 10min",
            "for: -5",
            "t.yaml:20:5: rules[0].for: Input should be greater than or equal to 0",
        ),
        (
            "value: 2.8",
            "value: high",
            "t.yaml:19:5: rules[0].value: Input should be a valid number",
        ),
        (
            "title: Flood",
            'title: "Flood {value:>999999999}"',
            "t.yaml:21:65: rules[0].incident.title: a title may use only the placeholders "
            "{name}, {subject}, {value}",
        ),
        (
            "title: Flood",
            'title: "Flood {"',
            "t.yaml:21:65: rules[0].incident.title: unbalanced braces (write a literal brace as "
            "'{{' or '}}'): Single '{' encountered in format string",
        ),
        (
            "sector: disaster",
            "sector: floods",
            "t.yaml:21:29: rules[0].incident.sector: Input should be 'safety', 'transport', "
            "'disaster', 'environment' or 'utilities'",
        ),
        (
            "    sensors: [river-1]\n",
            "",
            "t.yaml:15:5: rules[0]: name the sensors to watch: 'sensors', 'sensor_kinds' or both",
        ),
        (
            "    for: 10min\n",
            "    for: 10min\n    clear_value: 3\n",
            "t.yaml:15:5: rules[0]: with op '>' the clear_value must not be above value",
        ),
    ],
)
def test_rule_schema_errors(old: str, new: str, expected: str) -> None:
    assert issues(HEAD + SENSOR + RULE.replace(old, new)) == [expected]


def test_rate_of_change_needs_one_direction() -> None:
    rule = """\
rules:
  - id: r
    kind: rate_of_change
    sensors: [river-1]
    rise: 0.3
    fall: 0.3
    within: 30min
    incident: {type: flood, sector: disaster, severity: severe, title: Flood}
"""
    assert issues(HEAD + SENSOR + rule) == [
        "t.yaml:15:5: rules[0]: give exactly one of 'rise' or 'fall'"
    ]


def test_bad_time_window() -> None:
    rule = """\
rules:
  - id: r
    kind: camera_event
    event_kinds: [person]
    between: "24:00-06:00"
    incident: {type: intrusion, sector: safety, severity: minor, title: Person}
"""
    assert issues(HEAD + rule) == [
        "t.yaml:8:5: rules[0].between: write a time window as 'HH:MM-HH:MM', e.g. '22:00-06:00'; "
        "hours are 00-23 and minutes 00-59"
    ]


# --- YAML syntax and whole-file problems ---------------------------------------------------


def test_syntax_error_has_a_line() -> None:
    text = HEAD + "cameras: [\n  {id: a\n"
    assert issues(text) == [
        "t.yaml:6:1: expected ',' or '}', but got '<stream end>' "
        "(while parsing a flow mapping started at line 5)"
    ]


def test_tab_indentation() -> None:
    assert issues(HEAD + "cameras:\n\t- id: a\n") == [
        "t.yaml:5:1: found character '\\t' that cannot start any token "
        "(while scanning for the next token)"
    ]


def test_duplicate_key() -> None:
    text = HEAD + "  - id: fire\n    name: Fire\n    kind: fire_rescue\n    id: fire-2\n"
    assert issues(text) == ["t.yaml:7:5: duplicate key 'id' (the mapping starts at line 4)"]


def test_empty_file_and_wrong_top_level() -> None:
    assert issues("") == ["t.yaml:1:1: the file is empty"]
    assert issues("# only a comment\n") == ["t.yaml:1:1: the file is empty"]
    assert issues("- a\n- b\n") == [
        "t.yaml:1:1: the top level must be a mapping (municipality: ...)"
    ]


def test_load_config_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "town.yaml"
    path.write_text(HEAD + CAMERA.replace("fov_deg: 90", "fov_deg: 0"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:10:5: cameras[0].fov_deg: Input should be greater than 0"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}: cannot read the file: No such file or directory"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(HEAD.encode() + "  - {id: x, name: Казанлък}\n".encode("cp1251"))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == f"{path}:4: the file is not valid UTF-8 text"
