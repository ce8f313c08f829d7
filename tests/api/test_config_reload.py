"""A configuration imported while the server runs is applied without a restart."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cityops.app import import_config
from cityops.domain.rules import ThresholdRule
from tests.town import TOWN_YAML, api_client, start_center


def test_new_threshold_applies_while_running_and_rule_state_carries_over(tmp_path: Path) -> None:
    center = start_center(tmp_path / "db", with_mqtt=False, config_poll_s=0.1)
    try:
        with api_client(center) as client:
            start = datetime.now(UTC) - timedelta(minutes=20)

            def post(minutes: range, value: float) -> None:
                readings = [
                    {
                        "sensor": "river-1",
                        "value": value,
                        "ts": (start + timedelta(minutes=m)).isoformat(),
                    }
                    for m in minutes
                ]
                r = client.post("/api/v1/m/testtown/readings", json={"readings": readings})
                assert r.json()["accepted"] == len(readings)

            post(range(6), 3.0)  # above 2.8 m for five minutes: pending, not yet raised
            assert client.get("/api/v1/m/testtown/incidents").json() == []

            lowered = tmp_path / "testtown.yaml"
            text = TOWN_YAML.read_text(encoding="utf-8")
            lowered.write_text(
                text.replace("value: 2.8", "value: 2.2").replace(
                    "clear_value: 2.6", "clear_value: 2.0"
                ),
                encoding="utf-8",
            )
            import_config(center.db, lowered, actor="test")

            def flood_value() -> float:
                rule = next(
                    r for r in center.runtimes["testtown"].config.rules if r.id == "flood-level"
                )
                assert isinstance(rule, ThresholdRule)
                return rule.value

            deadline = time.monotonic() + 10
            while flood_value() != 2.2 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert flood_value() == 2.2
            post(range(6, 10), 3.0)  # nine minutes in all: the pending state was kept
            assert client.get("/api/v1/m/testtown/incidents").json() == []
            post(range(10, 11), 3.0)  # ten minutes since minute 0, not since the reload
            listed = client.get("/api/v1/m/testtown/incidents").json()
            assert [(i["rule_id"], i["status"]) for i in listed] == [("flood-level", "new")]
            thresholds = next(
                s for s in client.get("/api/v1/m/testtown/sensors").json() if s["id"] == "river-1"
            )["thresholds"]
            assert thresholds == [{"rule_id": "flood-level", "op": "above", "value": 2.2}]
    finally:
        center.stop()
