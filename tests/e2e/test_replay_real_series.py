"""`cityops replay` of a real series (UK Environment Agency river levels) through Mosquitto."""

from __future__ import annotations

import csv
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityops.app import ControlCenter
from cityops.sim.publisher import MqttPublisher
from cityops.sim.replay import replay_files
from cityops.store import tables as t
from tests.harness import MosquittoServer
from tests.town import town_config

pytestmark = [pytest.mark.mosquitto, pytest.mark.shared_data]


def test_replay_environment_agency_levels(
    center: ControlCenter, mosquitto: MosquittoServer, shared_data: Path
) -> None:
    path = shared_data / "sensors" / "ea_calder_valley" / "Hebden-Bridge-level-15min-Qualified.csv"
    if not path.exists():
        pytest.skip(f"{path} not found in the shared data")
    with path.open(newline="") as f:
        values = [float(r["value"]) for r in csv.DictReader(f) if r["value"].strip()]
    with MqttPublisher(mosquitto.url) as pub:
        _series, stats = replay_files(
            path, town_config(), pub, mapping={"level": "river-1"}, shift_to_now=True
        )
    assert stats.published == len(values)
    assert stats.bad == 0
    deadline = time.monotonic() + 30
    stored = 0
    while time.monotonic() < deadline:
        with center.db.connect() as conn:
            c = t.readings.c
            stored = conn.execute(select(func.count()).where(c.sensor_id == "river-1")).scalar_one()
        if stored == len(values):
            break
        time.sleep(0.1)
    assert stored == len(values)
    with center.db.connect() as conn:
        c = t.readings.c
        top = conn.execute(select(func.max(c.value)).where(c.sensor_id == "river-1")).scalar_one()
        last_ts = conn.execute(select(func.max(c.ts))).scalar_one()
    assert top == max(values)
    assert stats.last_ts is not None
    assert abs((last_ts - stats.last_ts).total_seconds()) < 0.001  # sent with ms precision
    # A dry summer on the Calder: the series never comes near the 2.8 m flood level.
    with center.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.incidents)).scalar_one() == 0
