"""The ``sharing:`` section: defaults without it, durations written as durations, and the
cross-checks of its auto rules (agency, purpose, duration), each reported at its line."""

from __future__ import annotations

from pathlib import Path

from cityops.config import load_config_text
from cityops.domain.shares import DEFAULT_POLICY, AutoShare, Purpose
from tests.config.snippets import HEAD, issues

SHARING = """\
sharing:
  purposes:
    - {id: robbery, label: Robbery, label_local: Грабеж}
    - {id: fire, label: Fire}
  default_duration: 30min
  max_duration: 4h
  radius_m: 120
  auto:
    - {incident_type: fire, agency: police, purpose: fire, for: 2h}
"""
"""Lines 4-12 after HEAD; the auto rule is on line 12."""


def test_without_a_section_the_defaults_apply() -> None:
    assert load_config_text(HEAD, "t.yaml").sharing == DEFAULT_POLICY
    assert DEFAULT_POLICY.purpose("emergency") is not None


def test_a_section_becomes_the_policy() -> None:
    policy = load_config_text(HEAD + SHARING, "t.yaml").sharing
    assert policy.purposes == (Purpose("robbery", "Robbery", "Грабеж"), Purpose("fire", "Fire"))
    assert (policy.default_minutes, policy.max_minutes, policy.radius_m) == (30, 240, 120)
    assert policy.auto == (AutoShare("fire", "police", "fire", 120),)
    assert policy.auto_for("fire") == policy.auto
    assert policy.auto_for("flood") == ()


def test_auto_rules_name_a_known_agency_and_purpose_within_the_maximum() -> None:
    bad = SHARING.replace(
        "agency: police, purpose: fire, for: 2h", "agency: fire, purpose: arson, for: 5h"
    )
    assert issues(HEAD + bad) == [
        "t.yaml:12:29: sharing.auto[0].agency: unknown agency 'fire' (agencies: police)",
        "t.yaml:12:43: sharing.auto[0].purpose: unknown purpose 'arson' (fire, robbery)",
        "t.yaml:12:59: sharing.auto[0].for: 5h is longer than max_duration 4h",
    ]


def test_durations_and_purposes_are_checked() -> None:
    longer = SHARING.replace("default_duration: 30min", "default_duration: 5h")
    assert any(
        "default_duration 5h is longer than max_duration 4h" in i for i in issues(HEAD + longer)
    )
    twice = SHARING.replace("{id: fire, label: Fire}", "{id: robbery, label: Again}")
    assert "sharing.purposes[1].id: duplicate id 'robbery'" in " ".join(issues(HEAD + twice))
    ambiguous = SHARING.replace("for: 2h", "for: 2m")
    assert any("'m' is ambiguous" in i for i in issues(HEAD + ambiguous))
    assert any("purposes" in i for i in issues(HEAD + "sharing: {purposes: []}\n"))


def test_the_kazanlak_demo_shares_fires_with_fire_and_rescue_for_two_hours() -> None:
    from importlib.resources import files

    from cityops.config.loader import load_config

    path = Path(str(files("cityops.data").joinpath("kazanlak.yaml")))
    policy = load_config(path).sharing
    assert policy.auto_for("fire") == (AutoShare("fire", "fire-rescue", "fire", 120),)
    crimes = ["robbery", "theft", "assault", "sexual-violence", "kidnapping", "missing-person"]
    assert all(policy.purpose(p) is not None for p in [*crimes, "hooliganism"])
