"""The ``frigate:`` section: shape, references to cameras, and a topic prefix of its own."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cityops.app import import_config, load_runtimes
from cityops.config import ConfigError, load_config, load_config_text
from cityops.store import catalog_repo
from cityops.store.db import make_engine, upgrade
from tests.config.snippets import CAMERA, HEAD, issues
from tests.town import TOWN_YAML

FRIGATE = """\
frigate:
  topic_prefix: site-a/frigate
  cameras:
    front_door: cam-1
  labels: {person: person, car: vehicle}
  min_score: 0.6
"""
"""Lines 14-19 after HEAD + CAMERA: topic_prefix on 15, front_door on 17, labels on 18."""


def test_a_frigate_section_maps_cameras_and_labels() -> None:
    cfg = load_config_text(HEAD + CAMERA + FRIGATE)
    assert cfg.frigate is not None
    assert cfg.frigate.topic_prefix == "site-a/frigate"
    assert dict(cfg.frigate.cameras) == {"front_door": "cam-1"}
    assert dict(cfg.frigate.labels) == {"person": "person", "car": "vehicle"}
    assert cfg.frigate.min_score == 0.6


def test_defaults_take_frigates_prefix_and_the_common_labels() -> None:
    cfg = load_config_text(HEAD + CAMERA + "frigate: {cameras: {front_door: cam-1}}\n")
    assert cfg.frigate is not None
    assert cfg.frigate.topic_prefix == "frigate"
    assert cfg.frigate.labels["car"] == "vehicle"
    assert cfg.frigate.labels["person"] == "person"
    assert cfg.frigate.min_score == 0.0
    assert load_config_text(HEAD + CAMERA).frigate is None


def test_an_unknown_camera_is_reported_at_its_frigate_name() -> None:
    text = HEAD + CAMERA + FRIGATE.replace("front_door: cam-1", "front_door: cam-2")
    assert issues(text) == [
        "t.yaml:17:5: frigate.cameras.front_door: unknown camera 'cam-2'; did you mean 'cam-1'?"
    ]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "topic_prefix: site-a/frigate",
            "topic_prefix: frigate/#",
            "t.yaml:15:3: frigate.topic_prefix: must be MQTT topic levels separated by '/', "
            "each 1-64 letters, digits, '_', '.' or '-' (no wildcards)",
        ),
        (
            "topic_prefix: site-a/frigate",
            "topic_prefix: cityops/frigate",
            "t.yaml:15:3: frigate.topic_prefix: topics under 'cityops/' are CityOps's own: "
            "choose another prefix",
        ),
        (
            "car: vehicle",
            "car: Vehicle",
            "t.yaml:18:28: frigate.labels.car: must be 1-64 characters of lowercase letters, "
            "digits, '-' or '_', starting with a letter or digit",
        ),
        (
            "min_score: 0.6",
            "min_score: 1.5",
            "t.yaml:19:3: frigate.min_score: Input should be less than or equal to 1",
        ),
    ],
)
def test_bad_values_are_located(old: str, new: str, expected: str) -> None:
    assert issues(HEAD + CAMERA + FRIGATE.replace(old, new)) == [expected]


def test_a_bad_frigate_camera_name_and_a_missing_map_are_located() -> None:
    text = HEAD + CAMERA + "frigate:\n  cameras: {front door: cam-1}\n"
    assert issues(text) == [
        "t.yaml:15:13: frigate.cameras['front door']: "
        "a Frigate camera name is 1-64 letters, digits, '_' or '-'"
    ]
    assert issues(HEAD + CAMERA + "frigate: {min_score: 0.5}\n") == [
        "t.yaml:14:1: frigate.cameras: Field required"
    ]


def test_a_prefix_taken_by_another_municipality_is_refused() -> None:
    text = HEAD + CAMERA + FRIGATE
    assert load_config_text(text, taken_prefixes={"site-a/frigate": "demo"}).frigate
    with pytest.raises(ConfigError) as info:
        load_config_text(text, "t.yaml", taken_prefixes={"site-a/frigate": "other"})
    assert [str(i) for i in info.value.issues] == [
        "t.yaml:15:3: frigate.topic_prefix: topic prefix 'site-a/frigate' is already used by "
        "municipality 'other': each municipality's Frigate needs a prefix of its own"
    ]


def _town_with_frigate(tmp_path: Path, muni: str) -> Path:
    text = TOWN_YAML.read_text(encoding="utf-8").replace("id: testtown", f"id: {muni}", 1)
    text += "frigate:\n  cameras: {school: cam-school}\n"
    path = tmp_path / f"{muni}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_refuses_a_prefix_another_municipality_holds(tmp_path: Path) -> None:
    """Where configurations meet: the installation's other municipalities."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    db = make_engine(url)
    try:
        import_config(db, _town_with_frigate(tmp_path, "town-a"))
        import_config(db, _town_with_frigate(tmp_path, "town-a"))  # its own again: fine
        with pytest.raises(ConfigError) as info:
            import_config(db, _town_with_frigate(tmp_path, "town-b"))
        (issue,) = info.value.issues
        lines = (tmp_path / "town-b.yaml").read_text(encoding="utf-8").splitlines()
        assert issue.line is not None
        assert (issue.field, lines[issue.line - 1]) == ("frigate.topic_prefix", "frigate:")
        assert "already used by municipality 'town-a'" in issue.message
        assert list(load_runtimes(db)) == ["town-a"]
    finally:
        db.dispose()


def test_two_stored_configurations_claiming_one_prefix_fail_at_load(tmp_path: Path) -> None:
    """Stored without import's check (an older CityOps, two imports racing): loading all
    runtimes names the later one."""
    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    db = make_engine(url)
    try:
        for muni in ("town-a", "town-b"):
            path = _town_with_frigate(tmp_path, muni)
            with db.begin() as conn:
                catalog_repo.save_config(
                    conn,
                    load_config(path),
                    yaml_text=path.read_text(encoding="utf-8"),
                    source_name=path.name,
                    actor="test",
                    now=datetime.now(UTC),
                )
        with pytest.raises(ConfigError) as info:
            load_runtimes(db)
        (issue,) = info.value.issues
        assert (issue.file, issue.field) == ("town-b.yaml", "frigate.topic_prefix")
        assert "already used by municipality 'town-a'" in issue.message
    finally:
        db.dispose()
