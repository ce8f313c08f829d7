"""The test town: a small municipality the project makes itself (tests/fixtures/testtown.yaml)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from cityops.app import ControlCenter, import_config
from cityops.config.loader import load_config
from cityops.domain.catalog import MunicipalityConfig
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade

TOWN_YAML = Path(__file__).parent / "fixtures" / "testtown.yaml"
MUNI = "testtown"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
"""A fixed instant for tests with a frozen clock (noon in Sofia)."""


def town_config() -> MunicipalityConfig:
    return load_config(TOWN_YAML)


def town_db(url: str) -> Engine:
    """A migrated database at ``url`` with the test town imported."""
    upgrade(url)
    db = make_engine(url)
    import_config(db, TOWN_YAML, actor="test")
    return db


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


def start_center(data_dir: Path, *, with_mqtt: bool = True, **settings: Any) -> ControlCenter:
    """A running control center on a fresh SQLite file in ``data_dir`` with the town imported."""
    settings.setdefault("camera_probe_s", 0)  # tests that want the monitor ask for it
    settings.setdefault("video_worker", False)  # and those that want a video worker
    settings.setdefault("mqtt_anonymous", True)  # test publishers are anonymous (D's tests: not)
    s = Settings(data_dir=data_dir, **settings)
    town_db(s.db_url).dispose()
    center = ControlCenter(s)
    center.start(with_mqtt=with_mqtt)
    if with_mqtt:
        assert center.mqtt is not None
        assert center.mqtt.connected.wait(10), "the control center did not reach the broker"
    return center
