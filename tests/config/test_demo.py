"""The demo configuration for Kazanlak: size, the rules and devices the scenarios use."""

from __future__ import annotations

import math
from datetime import time

import pytest

from cityops.config import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.catalog import MunicipalityConfig
from cityops.domain.entities import Sector, SensorKind, Severity
from cityops.domain.geo import angle_between, bearing_deg, projection_for
from cityops.domain.rules import (
    CameraEventRule,
    Comparison,
    CorrelationRule,
    RateOfChangeRule,
    SilenceRule,
    ThresholdRule,
)


@pytest.fixture(scope="module")
def demo() -> MunicipalityConfig:
    return load_config(DEMO_CONFIG)


def test_demo_has_the_promised_size(demo: MunicipalityConfig) -> None:
    assert demo.municipality.id == "kazanlak"
    assert demo.municipality.timezone == "Europe/Sofia"
    assert len(demo.cameras) >= 20
    assert len(demo.sensors) >= 40
    assert len(demo.agencies) >= 8
    assert 10 <= len(demo.key_objects) <= 20
    kinds = {type(rule) for rule in demo.rules}
    assert kinds == {ThresholdRule, RateOfChangeRule, SilenceRule, CameraEventRule, CorrelationRule}
    everything = (*demo.agencies, *demo.key_objects, *demo.cameras, *demo.sensors, *demo.rules)
    assert {item.municipality for item in everything} == {"kazanlak"}


def test_demo_rules_say_what_the_scenarios_need(demo: MunicipalityConfig) -> None:
    rules = {rule.id: rule for rule in demo.rules}

    flood = rules["tundzha-flood-level"]
    assert isinstance(flood, ThresholdRule)
    assert (flood.op, flood.value, flood.for_s) == (Comparison.ABOVE, 2.8, 600.0)
    assert flood.outcome.sector is Sector.DISASTER
    assert flood.outcome.severity is Severity.SEVERE
    assert flood.outcome.agency == "civil-protection"
    assert "river-tundzha-bridge" in flood.sensors.sensor_ids

    rise = rules["tundzha-rapid-rise"]
    assert isinstance(rise, RateOfChangeRule)
    assert (rise.change, rise.window_s) == (0.3, 1800.0)

    pm10 = rules["pm10-exceedance"]
    assert isinstance(pm10, ThresholdRule)
    assert (pm10.value, pm10.for_s, pm10.sensors.kinds) == (50.0, 3600.0, (SensorKind.PM10,))
    assert pm10.outcome.sector is Sector.ENVIRONMENT

    offline = rules["sensor-offline"]
    assert isinstance(offline, SilenceRule)
    assert offline.silence_s == 900.0
    assert set(offline.sensors.kinds) == {sensor.kind for sensor in demo.sensors}
    assert (offline.outcome.sector, offline.outcome.severity) == (Sector.UTILITIES, Severity.MINOR)

    school = rules["school-night-intrusion"]
    assert isinstance(school, CameraEventRule)
    assert (school.kinds, school.zones) == (("person", "intrusion", "loitering"), ("school-yard",))
    assert school.between == (time(22, 0), time(6, 0))
    assert school.outcome.sector is Sector.SAFETY

    accident = rules["traffic-accident"]
    assert isinstance(accident, CorrelationRule)
    assert accident.kinds == ("collision", "crowd", "person")
    assert (accident.min_count, accident.radius_m, accident.window_s) == (3, 300.0, 300.0)
    assert accident.outcome.sector is Sector.TRANSPORT
    assert accident.outcome.severity is Severity.SEVERE
    assert accident.outcome.agency == "traffic-police"


def test_demo_has_sensors_and_cameras_the_simulator_looks_up(demo: MunicipalityConfig) -> None:
    kinds = {sensor.kind for sensor in demo.sensors}
    assert {SensorKind.RIVER_LEVEL, SensorKind.PM10, SensorKind.PM25} <= kinds
    school_cams = [c.id for c in demo.cameras if "school-yard" in c.zones]
    assert school_cams == ["cam-pmg-yard", "cam-eg-yard", "cam-su-antim-yard", "cam-su-vazov-yard"]
    assert all(c.stream_url and c.stream_url.startswith("rtsp://") for c in demo.cameras)
    assert all(60 <= c.fov_deg <= 110 and 60 <= c.range_m <= 250 for c in demo.cameras)
    assert any(c.privacy_masks for c in demo.cameras)


def test_demo_accident_cameras_both_watch_the_main_crossing(demo: MunicipalityConfig) -> None:
    crossing = next(k for k in demo.key_objects if k.id == "crossing-rozova-23polk")
    assert demo.municipality.center is not None
    proj = projection_for(demo.municipality.center)
    cx, cy = proj.to_xy(crossing.position)
    for cam_id in ("cam-rozova-23polk-nw", "cam-rozova-23polk-se"):
        cam = demo.camera(cam_id)
        assert cam is not None
        assert "crossing" in cam.zones
        x, y = proj.to_xy(cam.position)
        distance = math.hypot(cx - x, cy - y)
        assert 50 <= distance <= 150
        assert distance < cam.range_m
        assert angle_between(bearing_deg(cx - x, cy - y), cam.heading_deg) < 5


def test_demo_has_a_bilingual_sop_for_every_incident_type(demo: MunicipalityConfig) -> None:
    types = {rule.outcome.incident_type for rule in demo.rules}
    assert {sop.incident_type for sop in demo.sops} == types
    for sop in demo.sops:
        assert sop.title_local
        assert 4 <= len(sop.steps) <= 7
        assert all(step.text_local for step in sop.steps)


def test_demo_is_package_data() -> None:
    assert DEMO_CONFIG.name == "kazanlak.yaml"
    assert DEMO_CONFIG.is_file()
