"""References between sections, checked after the schema, each reported at its line."""

from __future__ import annotations

from tests.config.snippets import CAMERA, HEAD, RULE, SENSOR, issues


def test_duplicate_ids_name_the_first_definition() -> None:
    text = HEAD + "  - {id: police, name: Police 2, kind: police}\n"
    assert issues(text) == ["t.yaml:4:6: agencies[1].id: duplicate id 'police' (first at line 3)"]


def test_duplicate_sop_and_step() -> None:
    text = HEAD + (
        "sops:\n"
        "  - incident_type: fire\n"
        "    title: Fire\n"
        "    steps:\n"
        "      - {id: call, text: Call.}\n"
        "      - {id: call, text: Call again.}\n"
        "  - {incident_type: fire, title: Fire again, steps: [{id: a, text: A.}]}\n"
    )
    assert issues(text) == [
        "t.yaml:9:10: sops[0].steps[1].id: duplicate id 'call' (first at line 8)",
        "t.yaml:10:6: sops[1].incident_type: duplicate incident_type 'fire' (first at line 5)",
    ]


def test_unknown_agency_in_rule_and_sop_step() -> None:
    text = (
        HEAD
        + SENSOR
        + RULE.replace("agency: police", "agency: polize")
        + (
            "sops:\n"
            "  - incident_type: flood\n"
            "    title: Flood\n"
            "    steps:\n"
            "      - {id: call, text: Call the fire service., agency: fire}\n"
        )
    )
    assert issues(text) == [
        "t.yaml:21:79: rules[0].incident.agency: unknown agency 'polize'; did you mean 'police'?",
        "t.yaml:26:50: sops[0].steps[0].agency: unknown agency 'fire' (defined: police)",
    ]


def test_unknown_sensor_in_rule() -> None:
    text = HEAD + SENSOR + RULE.replace("[river-1]", "[river-1, river-9]")
    assert issues(text) == [
        "t.yaml:17:24: rules[0].sensors[1]: unknown sensor 'river-9'; did you mean 'river-1'?"
    ]


CAMERA_RULE = """\
rules:
  - id: r
    kind: camera_event
    event_kinds: [person]
    cameras: [cam-1]
    zones: [school-yard]
    incident: {type: intrusion, sector: safety, severity: minor, title: Person}
"""
"""Lines 14-20 after HEAD + CAMERA: cameras on 18, zones on 19."""


def test_unknown_camera_in_rule() -> None:
    text = HEAD + CAMERA + CAMERA_RULE.replace("[cam-1]", "[cam-1, gate]")
    assert issues(text) == [
        "t.yaml:18:22: rules[0].cameras[1]: unknown camera 'gate' (defined: cam-1)"
    ]


def test_zone_not_on_the_named_camera() -> None:
    text = HEAD + CAMERA + CAMERA_RULE.replace("[school-yard]", "[school-yard, playground]")
    assert issues(text) == [
        "t.yaml:19:26: rules[0].zones[1]: zone 'playground' is not defined on cam-1"
    ]


def test_zone_on_no_camera_at_all() -> None:
    text = (
        HEAD
        + CAMERA
        + CAMERA_RULE.replace("    cameras: [cam-1]\n", "").replace("[school-yard]", "[schoolyard]")
    )
    assert issues(text) == ["t.yaml:18:13: rules[0].zones[0]: no camera defines zone 'schoolyard'"]


def test_sensor_range_upside_down() -> None:
    text = HEAD + SENSOR.replace("valid_min: 0", "valid_min: 10")
    assert issues(text) == [
        "t.yaml:11:5: sensors[0].valid_min: valid_min 10 is greater than valid_max 8"
    ]


def test_silence_not_longer_than_the_reporting_interval() -> None:
    rule = """\
rules:
  - id: offline
    kind: silence
    sensor_kinds: [river_level]
    silence: 5min
    incident: {type: offline, sector: utilities, severity: minor, title: Offline}
"""
    assert issues(HEAD + SENSOR + rule) == [
        "t.yaml:18:5: rules[0].silence: 5min is not longer than the expected interval of sensor "
        "'river-1' (5min): it would fire between normal readings"
    ]


def test_position_far_from_the_centre() -> None:
    text = HEAD + SENSOR.replace("lon: 25.39\n    lat: 42.62", "lon: 42.62\n    lat: 25.39")
    assert issues(text) == [
        "t.yaml:9:5: sensors[0].lon: position is 2478 km from the municipality centre "
        "(more than 100 km; longitude and latitude swapped?)"
    ]
