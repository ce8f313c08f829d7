"""Location requests from agency systems: the answer's latency (docs/BENCHMARKS.md, "Location
requests"). The target (issue 9): the incident, the cameras and the share answered in under 1 s
at the 99th percentile with 500 cameras.

    python -m bench.location_request                          # 500 cameras, Mosquitto (harness)
    python -m bench.location_request --cameras 50 --requests 20 --broker embedded

A generated municipality of ``--cameras`` cameras over about 6 x 4 km is served by a real
CityOps server (control center + uvicorn, SQLite unless ``--database-url``). The police's system
posts ``--requests`` location requests one after another over HTTP (a liaison's bearer token)
and as many over MQTT (QoS 1, on its request topic; the answer awaited on its responses topic),
at random places in the town; one in five repeats an earlier case number (it joins that
incident). Measured: from sending to the answer received, on the client; and the server's own
``answered_ms``. Every answer is checked (201, a share link, the case echoed). One JSON document
on stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from tests.harness import MosquittoServer, mosquitto_unavailable_reason
from tests.harness.live_server import LiveServer
from tests.town import account

from cityops.domain.access import Role
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services import devices
from cityops.store.db import make_engine, upgrade

MUNI = "benchcity"
CENTRE = (25.3925, 42.6194)
TARGET_MS = 1000.0
WARMUP = 3


def town_yaml(cameras: int, seed: int = 1) -> str:
    """``cameras`` cameras over about 6 x 4 km; the police may request robbery and theft."""
    rnd = random.Random(seed)
    lon0, lat0 = CENTRE
    lines = [
        "version: 1",
        f"municipality: {{id: {MUNI}, name: Bench City, timezone: Europe/Sofia,"
        f" center: {{lon: {lon0}, lat: {lat0}}}}}",
        "agencies:",
        "  - {id: police, name: Police, kind: police}",
        "cameras:",
    ]
    for i in range(cameras):
        lon, lat = spot(rnd)
        lines.append(
            f"  - {{id: cam-{i:03d}, name: Camera {i}, lon: {lon:.5f}, lat: {lat:.5f},"
            f" heading_deg: {rnd.randrange(360)}, fov_deg: {rnd.choice([60, 75, 90])},"
            f" range_m: {rnd.choice([80, 120, 150])}}}"
        )
    lines += [
        "sharing:",
        "  purposes:",
        "    - {id: robbery, label: Robbery}",
        "    - {id: theft, label: Theft}",
        "  requests:",
        "    within_km: 20",
        "    agencies:",
        "      - {agency: police, types: [robbery, theft], for: 1h}",
    ]
    return "\n".join(lines) + "\n"


def spot(rnd: random.Random) -> tuple[float, float]:
    lon0, lat0 = CENTRE
    return lon0 + rnd.uniform(-0.036, 0.036), lat0 + rnd.uniform(-0.018, 0.018)


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(p: float) -> float:  # nearest-rank percentile
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "n": len(ordered),
        "min": round(ordered[0], 1),
        "p50": round(statistics.median(ordered), 1),
        "p95": round(rank(95), 1),
        "p99": round(rank(99), 1),
        "max": round(ordered[-1], 1),
    }


def requests(n: int, prefix: str, seed: int) -> list[dict[str, Any]]:
    """``n`` requests (after WARMUP more); one in five repeats an earlier case."""
    rnd = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n + WARMUP):
        case = f"{prefix}-{i}"
        if i > WARMUP and rnd.random() < 0.2:
            case = out[rnd.randrange(WARMUP, i)]["case"]
        lon, lat = spot(rnd)
        kind = rnd.choice(["robbery", "theft"])
        out.append({"case": case, "type": kind, "lon": lon, "lat": lat, "request_id": str(i)})
    return out


def check(answer: dict[str, Any], sent: dict[str, Any]) -> None:
    if not (answer.get("ok") and answer.get("case") == sent["case"] and "#" in answer["link"]):
        raise RuntimeError(f"a wrong answer to {sent}: {answer}")


def over_http(server: LiveServer, token: str, sent: list[dict[str, Any]]) -> dict[str, Any]:
    url = f"{server.url}/api/v1/m/{MUNI}/agency/requests"
    client_ms: list[float] = []
    server_ms: list[float] = []
    cameras: list[int] = []
    with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        for i, body in enumerate(sent):
            t0 = time.perf_counter()
            r = http.post(url, json=body)
            elapsed = (time.perf_counter() - t0) * 1000
            if r.status_code != 201:
                raise RuntimeError(f"HTTP {r.status_code}: {r.text}")
            check(r.json(), body)
            if i >= WARMUP:
                client_ms.append(elapsed)
                server_ms.append(float(r.json()["answered_ms"]))
                cameras.append(len(r.json()["cameras"]))
    return {
        "answer_ms": summary(client_ms),
        "server_ms": summary(server_ms),
        "cameras_per_share": round(statistics.mean(cameras), 2),
    }


def over_mqtt(
    mqtt_url: str, v5: bool, login: tuple[str, str] | None, sent: list[dict[str, Any]]
) -> dict[str, Any]:
    host, port = mqtt_url.removeprefix("mqtt://").split(":")
    root = f"cityops/{MUNI}/agency/police"
    answers: dict[str, dict[str, Any]] = {}
    arrived = threading.Condition()

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        doc = json.loads(msg.payload)
        with arrived:
            answers[str(doc.get("request_id"))] = doc
            arrived.notify_all()

    cid = f"bench-police-{uuid.uuid4().hex[:8]}"
    if v5:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, cid, protocol=mqtt.MQTTv5)
    else:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, cid)
    client.on_message = on_message
    if login is not None:
        client.username_pw_set(*login)
    client.connect(host, int(port))
    client.loop_start()
    try:
        client.subscribe(f"{root}/responses/#", qos=1)
        time.sleep(0.5)
        client_ms: list[float] = []
        for i, body in enumerate(sent):
            rid = body["request_id"]
            t0 = time.perf_counter()
            client.publish(f"{root}/requests", json.dumps(body), qos=1)
            with arrived:
                if not arrived.wait_for(partial(answers.__contains__, rid), timeout=30):
                    raise RuntimeError(f"no answer to {body}")
            elapsed = (time.perf_counter() - t0) * 1000
            check(answers[rid], body)
            if i >= WARMUP:
                client_ms.append(elapsed)
    finally:
        client.disconnect()
        client.loop_stop()
    return {"answer_ms": summary(client_ms), "protocol": "5" if v5 else "3.1.1"}


def agency_credential(url: str) -> tuple[str, str]:
    """The police system's MQTT credential (kind ``agency``): (username, secret), made before
    the server starts, so an embedded broker of either kind knows it from the start."""
    upgrade(url)
    db = make_engine(url)
    try:
        scope = DeviceScope("bench-police", DeviceKind.AGENCY, MUNI, ("police",))
        with db.begin() as conn:
            made = devices.create(conn, scope, actor="bench")
    finally:
        db.dispose()
    return made.row.username, made.secret


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cameras", type=int, default=500)
    ap.add_argument("--requests", type=int, default=500, help="per transport")
    ap.add_argument("--broker", choices=["mosquitto", "embedded", "none"], default="mosquitto")
    ap.add_argument("--database-url", default=None, help="e.g. postgresql+psycopg://... ")
    args = ap.parse_args()
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cityops-bench-")))
        mqtt_url: str | None = None
        if args.broker == "mosquitto":
            if reason := mosquitto_unavailable_reason():
                sys.exit(f"{reason} (or use --broker embedded)")
            mqtt_url = stack.enter_context(MosquittoServer()).url
        config = tmp / f"{MUNI}.yaml"
        config.write_text(town_yaml(args.cameras), encoding="utf-8")
        database_url = args.database_url or f"sqlite:///{(tmp / 'cityops.db').as_posix()}"
        login = agency_credential(database_url) if args.broker == "embedded" else None
        server = stack.enter_context(LiveServer(tmp, mqtt_url, [config], database_url=database_url))
        assert server.center is not None
        token = account(
            server.center.db,
            "bench-police",
            role=Role.LIAISON,
            municipality=MUNI,
            agency="police",
            installation_admin=False,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        runs: dict[str, Callable[[], dict[str, Any]]] = {
            "http": lambda: over_http(server, token, requests(args.requests, "http", 1))
        }
        if args.broker != "none":
            v5 = args.broker == "mosquitto"
            runs["mqtt"] = lambda: over_mqtt(
                server.mqtt_url, v5, login, requests(args.requests, "mqtt", 2)
            )
        results = {name: run() for name, run in runs.items()}
    p99s = [r["answer_ms"]["p99"] for r in results.values()]
    print(
        json.dumps(
            {
                "benchmark": "location_request",
                "cameras": args.cameras,
                "requests_per_transport": args.requests,
                "broker": args.broker,
                "database": "postgresql" if args.database_url else "sqlite",
                **results,
                "target_p99_ms": TARGET_MS,
                "met": all(p < TARGET_MS for p in p99s),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
