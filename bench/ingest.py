"""Ingest benchmark: readings/s through the whole path, and trigger-to-incident latency.

    python -m bench.ingest --mode embedded     # SQLite file + embedded broker (amqtt)
    python -m bench.ingest --mode supervised   # SQLite file + Mosquitto supervised by CityOps
    python -m bench.ingest --mode mosquitto    # Mosquitto + PostgreSQL (started by the harness)
    python -m bench.ingest --mode mosquitto --mqtt-auth off   # the same without MQTT credentials


An outside MQTT client (paho, this process) publishes to the broker; `cityops serve` runs in its
own process (broker -> ingest -> rules -> stored). Authentication is on, as in production: the
publisher is a gateway with its own MQTT credential, the server's ingest logs in with one (on
Mosquitto, through the files of `cityops mqtt sync`), the live feed is read with an API token.
Throughput counts readings committed to the database; loss is published minus stored. Latency
is measured from the publish of a reading that crosses a threshold to the incident arriving on
the live feed (SSE), while background load runs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select
from tests.harness import MosquittoServer, PostgresServer, free_port

from cityops.bus import mosquitto
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.mqtt_url import parse_mqtt_url, with_credentials
from cityops.services import devices
from cityops.store import tables as t
from cityops.store.db import make_engine, upgrade

SENSORS = 1000


def bench_town_yaml() -> str:
    lines = [
        "version: 1",
        "municipality: {id: benchtown, name: Bench Town, center: {lon: 25.39, lat: 42.62}}",
        "agencies: [{id: cp, name: Civil Protection, kind: civil_protection}]",
        "sensors:",
    ]
    for i in range(SENSORS):
        lon = 25.30 + (i % 40) * 0.004
        lat = 42.58 + (i // 40) * 0.003
        lines.append(
            f"  - {{id: s{i}, name: Gauge {i}, kind: river_level, unit: m, lon: {lon:.4f}, "
            f"lat: {lat:.4f}, valid_min: 0, valid_max: 100, expected_interval_s: 60}}"
        )
    lines += [
        "rules:",
        "  - {id: high, kind: threshold, sensor_kinds: [river_level], op: '>', value: 50,"
        "     incident: {type: flood, sector: disaster, severity: severe, title: 'High {name}',"
        "     agency: cp}}",
        "  - {id: rise, kind: rate_of_change, sensor_kinds: [river_level], rise: 30,"
        "     within: 30min, incident: {type: rise, sector: disaster, severity: moderate,"
        "     title: 'Rise {name}'}}",
    ]
    return "\n".join(lines) + "\n"


def credential(db: Engine, scope: DeviceScope) -> tuple[str, str]:
    with db.begin() as conn:
        made = devices.create(conn, scope, actor="bench")
    return made.row.username, made.secret


def embedded(mode: str, workdir: Path, env: dict[str, str]) -> tuple[str, str]:
    """(database URL, broker URL) of a server on SQLite with its embedded broker: amqtt
    (``embedded``) or the Mosquitto that `cityops serve` supervises (``supervised``)."""
    mqtt_port = free_port()
    env["CITYOPS_MQTT_PORT"] = str(mqtt_port)
    env["CITYOPS_DATA_DIR"] = str(workdir)
    env["CITYOPS_BROKER"] = "mosquitto" if mode == "supervised" else "amqtt"
    return f"sqlite:///{workdir / 'cityops.db'}", f"mqtt://127.0.0.1:{mqtt_port}"


@contextlib.contextmanager
def server(mode: str, workdir: Path, mqtt_auth: bool = True) -> Iterator[tuple[str, str, int, str]]:
    """Yields (database URL, the gateway's broker URL, HTTP port, API token) with `cityops serve`
    running. ``mqtt_auth=False`` (Mosquitto only) runs the broker anonymous, without password
    file and ACL, and the server in development mode (which alone accepts that): the other half
    of the A/B that measures what MQTT authentication costs."""
    from tests.town import account

    with contextlib.ExitStack() as stack:
        env = dict(os.environ, CITYOPS_LOG_LEVEL="WARNING")
        if mode == "mosquitto":
            broker = stack.enter_context(
                MosquittoServer(secured=mqtt_auth, max_queued_messages=1_000_000)
            )
            pg = stack.enter_context(PostgresServer())
            db_url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
            mqtt_url = broker.url
        else:
            db_url, mqtt_url = embedded(mode, workdir, env)
        http_port = free_port()
        env |= {"CITYOPS_DATABASE_URL": db_url, "CITYOPS_HTTP_PORT": str(http_port)}
        upgrade(db_url)
        db = make_engine(db_url)
        gateway = credential(db, DeviceScope("bench-gw", DeviceKind.GATEWAY, "benchtown"))
        if mode == "mosquitto" and not mqtt_auth:
            env["CITYOPS_ENV"] = "development"
            env["CITYOPS_MQTT_URL"] = mqtt_url
        elif mode == "mosquitto":
            ingest = credential(db, DeviceScope("bench-ingest", DeviceKind.INGEST, None))
            worker = credential(db, DeviceScope("bench-worker", DeviceKind.WORKER, None))
            env["CITYOPS_VIDEO_MQTT_URL"] = with_credentials(mqtt_url, *worker)
            with db.connect() as conn:
                rows = devices.listed(conn)
            mosquitto.sync(rows, broker.password_path, broker.acl_path, broker.pid_path)
            time.sleep(1.0)  # SIGHUP is handled asynchronously
            env["CITYOPS_MQTT_URL"] = with_credentials(mqtt_url, *ingest)
        cfg = workdir / "benchtown.yaml"
        cfg.write_text(bench_town_yaml())
        subprocess.run(
            [sys.executable, "-m", "cityops.cli", "import-config", str(cfg)],
            env=env,
            check=True,
            capture_output=True,
        )
        token = account(db, municipality="benchtown")
        db.dispose()
        log = (workdir / "server.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "cityops.cli", "serve"], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    h = httpx.get(f"http://127.0.0.1:{http_port}/api/v1/health").json()
                    if h["mqtt_connected"]:
                        break
                time.sleep(0.2)
            else:
                raise RuntimeError(f"server did not start; see {workdir / 'server.log'}")
            gateway_url = with_credentials(mqtt_url, *gateway) if mqtt_auth else mqtt_url
            yield db_url, gateway_url, http_port, token
        finally:
            proc.terminate()
            proc.wait(20)


def client(mqtt_url: str) -> mqtt.Client:
    target = parse_mqtt_url(mqtt_url)
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}")
    c.max_inflight_messages_set(1000)
    c.username_pw_set(target.username, target.password)
    c.connect(target.host, target.port)
    c.loop_start()
    return c


def _count(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.readings)).scalar_one())


def throughput(
    db_url: str, mqtt_url: str, total: int, batch: int, days_back: int
) -> dict[str, float]:
    """Publish ``total`` readings in messages of ``batch``; time until all are stored."""
    db = make_engine(db_url)
    before = _count(db)
    pub = client(mqtt_url)
    base = datetime.now(UTC) - timedelta(days=days_back)
    infos = []
    start = time.perf_counter()
    n = 0
    while n < total:
        readings = [
            {
                "sensor": f"s{(n + k) % SENSORS}",
                "value": 1.0 + ((n + k) % 7) * 0.1,
                "ts": int((base + timedelta(seconds=(n + k) // SENSORS)).timestamp()),
            }
            for k in range(min(batch, total - n))
        ]
        topic = "cityops/benchtown/readings"
        infos.append(pub.publish(topic, json.dumps({"readings": readings}), qos=1))
        n += len(readings)
    for info in infos:
        info.wait_for_publish(120)
    published_at = time.perf_counter()
    stored = 0
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        stored = _count(db) - before
        if stored >= total:
            break
        time.sleep(0.05)
    elapsed = time.perf_counter() - start
    pub.loop_stop()
    db.dispose()
    return {
        "readings": total,
        "per_message": batch,
        "stored": stored,
        "lost": total - stored,
        "publish_s": round(published_at - start, 3),
        "seconds": round(elapsed, 3),
        "readings_per_s": round(stored / elapsed),
    }


def latency(mqtt_url: str, http_port: int, token: str, samples: int, rate: int) -> dict[str, float]:
    """p50/p99 from publishing a threshold-crossing reading to its incident on the SSE feed,
    with background load of ``rate`` readings/s of ordinary values."""
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    ready = threading.Event()
    stop = threading.Event()

    auth = {"Authorization": f"Bearer {token}"}

    def listen() -> None:
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{http_port}/api/v1/m/benchtown/live",
            timeout=None,
            headers=auth,
        ) as r:
            event = ""
            for line in r.iter_lines():
                if line.startswith("event:"):
                    event = line[6:].strip()
                    ready.set()
                elif line.startswith("data:") and event == "incident":
                    data = json.loads(line[5:])
                    if data["rule_id"] == "high" and data["status"] == "new":
                        name = data["title"].removeprefix("High Gauge ")
                        got.setdefault(f"s{name}", time.perf_counter())
                if stop.is_set() and len(got) >= len(sent):
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    pub = client(mqtt_url)

    def background() -> None:
        i = 0
        while not stop.is_set():
            tick = time.perf_counter()
            now = int(time.time())
            readings = [
                {"sensor": f"s{500 + (i + k) % 500}", "value": 1.0, "ts": now}
                for k in range(rate // 10)
            ]
            pub.publish("cityops/benchtown/readings", json.dumps({"readings": readings}), qos=1)
            i += rate // 10
            time.sleep(max(0.0, 0.1 - (time.perf_counter() - tick)))

    bg = threading.Thread(target=background, daemon=True)
    bg.start()
    time.sleep(1.0)
    for i in range(samples):
        sensor = f"s{i}"
        doc = {"value": 60.0, "ts": datetime.now(UTC).isoformat()}
        sent[sensor] = time.perf_counter()
        pub.publish(f"cityops/benchtown/sensors/{sensor}/readings", json.dumps(doc), qos=1)
        time.sleep(0.05)
    deadline = time.monotonic() + 30
    while len(got) < samples and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    pub.loop_stop()
    lat = sorted((got[s] - sent[s]) * 1000 for s in sent if s in got)
    metrics = httpx.get(f"http://127.0.0.1:{http_port}/api/v1/metrics", headers=auth)
    server_lag = metrics.json()["lag_ms"]
    return {
        "server_receive_to_commit_ms": server_lag,
        "samples": samples,
        "received": len(lat),
        "background_readings_per_s": rate,
        "p50_ms": round(statistics.median(lat), 1),
        "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 1),
        "max_ms": round(lat[-1], 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", choices=["embedded", "supervised", "mosquitto"], default="embedded")
    ap.add_argument("--readings", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=100, help="readings per MQTT message")
    ap.add_argument("--samples", type=int, default=200)
    ap.add_argument("--rate", type=int, default=1000, help="background readings/s for latency")
    ap.add_argument(
        "--mqtt-auth", choices=["on", "off"], default="on", help="off: Mosquitto mode only"
    )
    args = ap.parse_args()
    if args.mqtt_auth == "off" and args.mode != "mosquitto":
        ap.error("--mqtt-auth off needs --mode mosquitto")
    auth = args.mqtt_auth == "on"
    with (
        tempfile.TemporaryDirectory() as tmp,
        server(args.mode, Path(tmp), auth) as (db, mq, port, tok),
    ):
        result = {
            "mode": args.mode,
            "mqtt_auth": args.mqtt_auth,
            "latency": latency(mq, port, tok, args.samples, args.rate),
            "throughput": throughput(db, mq, args.readings, args.batch, days_back=10),
            "throughput_single": throughput(db, mq, min(args.readings, 20_000), 1, days_back=20),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
