"""``synthetic://`` URLs: what they say, what they refuse, when their scripts run."""

from __future__ import annotations

import pytest

from cityops.domain.scenes import SceneKind, SceneSpec, is_synthetic
from cityops.video.synthetic import open_synthetic


def test_a_url_names_scene_seed_night_and_schedule_and_round_trips() -> None:
    spec = SceneSpec.parse(
        "synthetic://crossing?seed=3&night=auto&tz=Europe/Sofia&every=1200&offset=600"
    )
    assert spec.scene is SceneKind.CROSSING
    assert spec.seed == 3
    assert spec.night is None
    assert spec.every_s == 1200.0
    assert SceneSpec.parse(spec.url()) == spec
    assert is_synthetic(spec.url())
    assert not is_synthetic("rtsp://cam.example/stream")


def test_scripts_start_on_the_schedule_and_at_the_named_times() -> None:
    spec = SceneSpec.parse("synthetic://crossing?every=1200&offset=600&at=100,5000")
    assert spec.script_starts(0.0, 3600.0) == [100.0, 600.0, 1800.0, 3000.0]
    assert spec.scripts_running(700.0) == [600.0]
    assert spec.scripts_running(1000.0) == []
    assert SceneSpec.parse("synthetic://street?every=600").script_starts(0, 9999) == []


def test_scheduling_a_script_changes_the_picture_from_then_on() -> None:
    plain = open_synthetic("synthetic://schoolyard?seed=1")
    scripted = open_synthetic("synthetic://schoolyard?seed=1")
    scripted.schedule(1000.0)
    assert plain.truth_at(1060.0) != scripted.truth_at(1060.0)
    assert plain.truth_at(990.0) == scripted.truth_at(990.0)
    with pytest.raises(ValueError, match="no script"):
        open_synthetic("synthetic://street").schedule(0.0)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("rtsp://x/y", "not a synthetic"),
        ("synthetic://harbour", "unknown scene 'harbour'"),
        ("synthetic://street?speed=3", "unknown parameter 'speed'"),
        ("synthetic://street?seed=x", "seed must be a whole number"),
        ("synthetic://street?night=2", "night must be 0, 1 or auto"),
        ("synthetic://street?tz=Mars/Base", "unknown time zone"),
        ("synthetic://crossing?every=60", "shorter than the crossing script"),
        ("synthetic://crossing?every=-5", "every must be positive"),
        ("synthetic://crossing?at=soon", "at must be a number"),
    ],
)
def test_a_malformed_url_says_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        open_synthetic(url)
