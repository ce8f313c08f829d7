"""End to end through a real Mosquitto: a real client publishes, the incident shows in the API;
and the server is killed with SIGKILL mid-stream without losing an acknowledged reading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import func, select

from cityops.app import ControlCenter, import_config
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade
from tests.harness import MosquittoServer, free_port
from tests.town import TOWN_YAML, api_client

pytestmark = pytest.mark.mosquitto


def publisher(server: MosquittoServer) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.max_inflight_messages_set(200)
    client.connect(server.host, server.port)
    client.loop_start()
    return client


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def test_published_readings_become_an_incident_in_the_api(
    center: ControlCenter, mosquitto: MosquittoServer
) -> None:
    client = publisher(mosquitto)
    incidents_seen: list[dict[str, object]] = []
    watcher = publisher(mosquitto)
    watcher.on_message = lambda _c, _u, m: incidents_seen.append(json.loads(m.payload))
    watcher.subscribe("cityops/testtown/incidents/#", qos=1)
    start = datetime.now(UTC) - timedelta(minutes=12)
    infos = [
        client.publish(
            "cityops/testtown/sensors/river-1/readings",
            json.dumps(
                {"value": 3.2, "unit": "m", "ts": (start + timedelta(minutes=i)).isoformat()}
            ),
            qos=1,
        )
        for i in range(12)
    ]
    for info in infos:
        info.wait_for_publish(10)
    with api_client(center) as api:
        wait_for(lambda: api.get("/api/v1/m/testtown/incidents").json(), 10, "the flood incident")
        listed = api.get("/api/v1/m/testtown/incidents").json()
        assert [(i["type"], i["status"]) for i in listed] == [("flood", "new")]
        sensor = next(
            s for s in api.get("/api/v1/m/testtown/sensors").json() if s["id"] == "river-1"
        )
        assert sensor["state"] == "alarm"

    # the broker is shared by the session's tests: an earlier test's retained incident may come
    # first, so look for this center's incident by its id and type
    def ours() -> list[dict[str, object]]:
        return [i for i in incidents_seen if (i["id"], i["type"]) == (listed[0]["id"], "flood")]

    wait_for(ours, 10, "the incident published back on MQTT")
    assert ours()[0]["actions"] == ["acknowledge", "assign", "cancel", "note", "sop"]
    client.loop_stop()
    watcher.loop_stop()


def _serve(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "cityops.cli", "serve"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def test_sigkill_mid_stream_loses_no_acknowledged_reading_and_keeps_rule_state(
    tmp_path: Path, mosquitto: MosquittoServer
) -> None:
    db_url = f"sqlite:///{tmp_path / 'cityops.db'}"
    upgrade(db_url)
    db = make_engine(db_url)
    import_config(db, TOWN_YAML)
    port = free_port()
    env = os.environ | {
        "CITYOPS_DATABASE_URL": db_url,
        "CITYOPS_MQTT_URL": mosquitto.url,
        "CITYOPS_MQTT_CLIENT_ID": f"cityops-kill-{uuid.uuid4().hex[:8]}",
        "CITYOPS_HTTP_PORT": str(port),
        "CITYOPS_LOG_LEVEL": "WARNING",
        "CITYOPS_ENV": "development",  # the session's Mosquitto is anonymous (no secret to check)
    }
    log = tmp_path / "server.log"

    def healthy() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health").json()["mqtt_connected"]
        except (httpx.HTTPError, ValueError):
            return False

    def stored() -> int:
        with db.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.readings)).scalar_one())

    server = _serve(env, log)
    try:
        wait_for(healthy, 30, "the server to start")
        # 3,000 readings of river-1 one second apart (event time), all above 2.8 m: the flood
        # rule must raise exactly at the 600th second, wherever the kill falls before it.
        total = 3000
        base = datetime.now(UTC) - timedelta(seconds=total + 60)
        client = publisher(mosquitto)
        acked: list[int] = []
        client.on_publish = lambda _c, _u, mid, _rc, _p: acked.append(mid)

        def publish_all() -> None:
            for i in range(total):
                doc = {"value": 3.0, "ts": (base + timedelta(seconds=i)).isoformat()}
                client.publish("cityops/testtown/sensors/river-1/readings", json.dumps(doc), qos=1)
                time.sleep(0.0015)

        thread = threading.Thread(target=publish_all)
        thread.start()
        wait_for(lambda: stored() >= 150, 30, "the first readings to be stored")
        server.send_signal(signal.SIGKILL)
        server.wait(10)
        at_kill = stored()
        assert at_kill < 600, "the kill came too late to test rule-state recovery"
        with db.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.incidents)).scalar_one() == 0
        server = _serve(env, log)
        thread.join(60)
        wait_for(lambda: len(acked) == total, 30, "the broker to acknowledge every publish")
        wait_for(lambda: stored() == total, 60, f"all {total} readings (killed at {at_kill})")
        with db.connect() as conn:
            rows = conn.execute(select(t.incidents.c.rule_id, t.incidents.c.id)).all()
            assert [r.rule_id for r in rows] == ["flood-level"]
            observed = conn.execute(
                select(t.incident_timeline.c.data).where(
                    t.incident_timeline.c.incident_id == rows[0].id,
                    t.incident_timeline.c.kind == "created",
                )
            ).scalar_one()
        assert observed["observed_at"] == (base + timedelta(seconds=600)).isoformat()
        client.loop_stop()
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(10)
        db.dispose()
