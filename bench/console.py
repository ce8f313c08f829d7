"""Console benchmark: first render and live update latency in headless Chromium.

    python -m bench.console                      # Mosquitto (harness) + SQLite
    python -m bench.console --broker embedded    # the embedded amqtt broker instead

A generated municipality with 500 cameras, 2,000 sensors and 200 open incidents (raised by one
HTTP batch of readings) is served by a real CityOps server (control center + uvicorn).

- First render: navigation start -> the console's queue and map populated and painted
  (``window.__cityopsReady``, performance mark ``cityops:ready``), in a fresh browser context
  (cold cache) each run. Each run also checks that the queue lists 200 incidents, the map holds
  200 incident markers (alone or in clusters) and 2,000 sensor markers.
- Update latency: a reading published over MQTT (QoS 1) that crosses a sensor's threshold ->
  the sensor's marker restyled on the map and the next frame painted (the console's
  ``cityops:sensors-restyled`` event, then one requestAnimationFrame). Alternately above and
  below the threshold (alarm and back to ok) on several sensors, while background readings of
  other sensors arrive (``--background`` readings/s, default one reading a minute per sensor).

Prints one JSON document. Targets: first render < 2 s, update p99 < 1 s.
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
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from playwright.sync_api import Browser, sync_playwright
from tests.browser.chromium import CHROMIUM, CHROMIUM_ARGS
from tests.harness import MosquittoServer, mosquitto_unavailable_reason
from tests.harness.live_server import LiveServer
from tests.town import account

from cityops.domain.access import Role

MUNI = "benchcity"
CENTRE = (25.3925, 42.6194)
KINDS = [  # kind, unit, normal value, alarm value, threshold, clear, severity
    ("river_level", "m", 3.0, 6.0, 5.0, 4.5, "severe"),
    ("pm10", "µg/m³", 20.0, 80.0, 50.0, 45.0, "moderate"),
    ("temperature", "°C", 18.0, 38.0, 35.0, 33.0, "minor"),
    ("noise", "dB", 55.0, 95.0, 85.0, 80.0, "minor"),
]
BENCH_PASSWORD = "bench-console-password"
FIRST_RENDER_TARGET_MS = 2000.0
UPDATE_TARGET_MS = 1000.0


def town_yaml(cameras: int, sensors: int, seed: int = 1) -> str:
    """A municipality of ``cameras`` cameras and ``sensors`` sensors over about 6 x 4 km."""
    rnd = random.Random(seed)
    lon0, lat0 = CENTRE

    def spot() -> tuple[float, float]:
        return lon0 + rnd.uniform(-0.036, 0.036), lat0 + rnd.uniform(-0.018, 0.018)

    lines = [
        "version: 1",
        f"municipality: {{id: {MUNI}, name: Bench City, name_local: Бенчово,"
        f" timezone: Europe/Sofia, center: {{lon: {lon0}, lat: {lat0}}}}}",
        "agencies:",
        "  - {id: civil-protection, name: Civil Protection, kind: civil_protection}",
        "  - {id: environment, name: Environment Inspectorate, kind: other}",
        "  - {id: municipal, name: Municipal Services, kind: municipal_services}",
        "cameras:",
    ]
    for i in range(cameras):
        lon, lat = spot()
        lines.append(
            f"  - {{id: cam-{i:03d}, name: Camera {i}, lon: {lon:.5f}, lat: {lat:.5f},"
            f" heading_deg: {rnd.randrange(360)}, fov_deg: {rnd.choice([60, 75, 90])},"
            f" range_m: {rnd.choice([80, 120, 150])}}}"
        )
    lines.append("sensors:")
    for i in range(sensors):
        kind, unit, *_ = KINDS[i % len(KINDS)]
        lon, lat = spot()
        lines.append(
            f"  - {{id: s{i:04d}, name: {kind} {i}, kind: {kind}, unit: '{unit}',"
            f" lon: {lon:.5f}, lat: {lat:.5f}, valid_min: -50, valid_max: 1000,"
            f" expected_interval_s: 60}}"
        )
    lines.append("rules:")
    agencies = {
        "river_level": "civil-protection",
        "pm10": "environment",
        "temperature": "municipal",
        "noise": "municipal",
    }
    for kind, unit, _normal, _alarm, limit, clear, severity in KINDS:
        lines.append(
            f"  - {{id: {kind}-high, kind: threshold, sensor_kinds: [{kind}], op: '>',"
            f" value: {limit}, clear_value: {clear}, incident: {{type: {kind}_high,"
            f" sector: environment, severity: {severity},"
            f" title: '{kind} above {limit} {unit} at {{name}}', agency: {agencies[kind]}}}}}"
        )
    return "\n".join(lines) + "\n"


def sensor_ids(sensors: int, kind_index: int) -> list[str]:
    return [f"s{i:04d}" for i in range(kind_index, sensors, len(KINDS))]


def raise_incidents(server: LiveServer, sensors: int, incidents: int) -> set[str]:
    """One HTTP batch: ``incidents`` sensors (all kinds, river gauges last) above their
    threshold. Returns the sensors now in alarm."""
    now = datetime.now(UTC).isoformat()
    chosen: list[str] = []
    per_kind = math.ceil(incidents / len(KINDS))
    for k in range(len(KINDS)):
        chosen += sensor_ids(sensors, k)[:per_kind]
    chosen = chosen[:incidents]
    readings = [
        {"sensor": s, "value": KINDS[int(s[1:]) % len(KINDS)][3], "ts": now} for s in chosen
    ]
    auth = server.headers(municipality=MUNI)
    r = httpx.post(
        server.api(f"/m/{MUNI}/readings"), json={"readings": readings}, headers=auth, timeout=60
    )
    r.raise_for_status()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = httpx.get(
            server.api(f"/m/{MUNI}/incidents"),
            params={"open": "true", "limit": 1000},
            headers=auth,
        ).json()
        if len(listed) >= incidents:
            return set(chosen)
        time.sleep(0.2)
    raise RuntimeError(f"only {len(listed)} of {incidents} incidents were opened")


POPULATED_JS = r"""
() => {
  const markers = document.querySelectorAll('[data-testid="incident-marker"]').length;
  let clustered = 0;
  for (const c of document.querySelectorAll('[data-testid="incident-cluster"]')) {
    clustered += Number(c.dataset.count);
  }
  return {
    ready_ms: window.__cityopsReady,
    queue: document.querySelectorAll('[data-testid="queue-item"]').length,
    queue_badge: Number(document.getElementById('queue-count').textContent),
    map_incidents: markers + clustered,
    map_sensors: window.__cityops.sensorsOnMap(),
    // what the first render waited for: each API response, from request start to last byte
    api_ms: Object.fromEntries(performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/v1/') && !e.name.endsWith('/live'))
      .map((e) => [new URL(e.name).pathname.replace(/^.*\/api\/v1/, ''),
                   Math.round(e.responseEnd - e.startTime)])),
    dom_content_loaded_ms: Math.round(
      performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),
  };
}
"""


def signed_in(browser: Browser, server: LiveServer) -> Any:
    """The browser state (the session cookie) of the bench operator, logged in once: every run
    opens the console as an operator with a session (the login's rate limit is not measured)."""
    assert server.center is not None
    account(
        server.center.db,
        "bench",
        display_name="Bench",
        role=Role.OPERATOR,
        municipality=MUNI,
        installation_admin=False,
        password=BENCH_PASSWORD,
    )
    context = browser.new_context()
    answer = context.request.post(
        server.api("/auth/login"), data={"username": "bench", "password": BENCH_PASSWORD}
    )
    if not answer.ok:
        raise RuntimeError(f"bench login refused: {answer.status} {answer.text()}")
    state = context.storage_state()
    context.close()
    return state


def first_render(
    browser: Browser, url: str, runs: int, expect: dict[str, int], session: Any
) -> dict[str, Any]:
    times: list[float] = []
    checks: list[dict[str, Any]] = []
    for _ in range(runs):
        context = browser.new_context(
            viewport={"width": 1920, "height": 1080},
            locale="en-GB",
            timezone_id="Europe/Sofia",
            storage_state=session,
        )
        page = context.new_page()
        page.goto(url)
        page.wait_for_function("() => window.__cityopsReady !== undefined", timeout=60_000)
        got = page.evaluate(POPULATED_JS)
        context.close()
        times.append(float(got.pop("ready_ms")))
        checks.append(got)
        wrong = {k: (got[k], v) for k, v in expect.items() if got[k] != v}
        if wrong:
            raise RuntimeError(f"console not populated at ready (got, want): {wrong}")
    return {"runs_ms": [round(t, 1) for t in times], **summary(times), "first_run": checks[0]}


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def rank(p: float) -> float:  # nearest-rank percentile
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    return {
        "n": len(ordered),
        "min": round(ordered[0], 1),
        "p50": round(statistics.median(ordered), 1),
        "p99": round(rank(99), 1),
        "max": round(ordered[-1], 1),
    }


RECORDER_JS = """
() => {
  window.__benchSeen = {};
  window.addEventListener('cityops:sensors-restyled', (ev) => {
    const items = ev.detail;
    requestAnimationFrame(() => {  // the frame in which the canvas repaints
      const at = performance.timeOrigin + performance.now();
      for (const it of items) window.__benchSeen[`${it.id}|${it.state}`] = at;
    });
  });
}
"""


@contextlib.contextmanager
def background_load(
    client: mqtt.Client, ids: list[str], rate: float, stop: threading.Event
) -> Iterator[None]:
    """Normal readings of ``ids`` at ``rate`` readings/s, one gateway batch per second."""
    if rate <= 0 or not ids:
        yield
        return
    rnd = random.Random(7)

    def run() -> None:
        i = 0
        while not stop.wait(1.0):
            now = datetime.now(UTC).isoformat()
            batch = []
            for _ in range(round(rate)):
                s = ids[i % len(ids)]
                i += 1
                normal = KINDS[int(s[1:]) % len(KINDS)][2]
                batch.append({"sensor": s, "value": normal + rnd.uniform(-1, 1), "ts": now})
            client.publish(f"cityops/{MUNI}/readings", json.dumps({"readings": batch}), qos=1)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(5)


def update_latency(
    browser: Browser,
    server: LiveServer,
    probes: list[str],
    background: list[str],
    samples: int,
    rate: float,
    session: Any,
) -> dict[str, Any]:
    context = browser.new_context(
        viewport={"width": 1920, "height": 1080},
        locale="en-GB",
        timezone_id="Europe/Sofia",
        storage_state=session,
    )
    page = context.new_page()
    page.goto(server.url)
    page.wait_for_function("() => window.__cityopsReady !== undefined", timeout=60_000)
    page.wait_for_selector("#conn[data-state=live]")
    page.evaluate(RECORDER_JS)

    host, port = server.mqtt_url.removeprefix("mqtt://").rsplit(":", 1)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:8]}")
    client.connect(host, int(port))
    client.loop_start()
    normal, alarm = KINDS[0][2], KINDS[0][3]

    def publish(sensor: str, value: float) -> float:
        doc = {"value": value, "unit": "m", "ts": datetime.now(UTC).isoformat()}
        sent = time.time() * 1000
        client.publish(f"cityops/{MUNI}/sensors/{sensor}/readings", json.dumps(doc), qos=1)
        return sent

    def wait_seen(sensor: str, state: str) -> float:
        key = f"{sensor}|{state}"
        handle = page.wait_for_function(
            "(key) => window.__benchSeen[key]", arg=key, timeout=10_000, polling=20
        )
        return float(handle.json_value())

    # prime: every probe sensor reports a normal level first (unknown -> ok)
    for sensor in probes:
        publish(sensor, normal)
    for sensor in probes:
        wait_seen(sensor, "ok")
    page.evaluate("window.__benchSeen = {}")

    latencies: list[float] = []
    stop = threading.Event()
    with background_load(client, background, rate, stop):
        time.sleep(1.5)  # background running before the first sample
        for i in range(samples):
            sensor = probes[i % len(probes)]
            to_alarm = (i // len(probes)) % 2 == 0
            state = "alarm" if to_alarm else "ok"
            sent = publish(sensor, alarm if to_alarm else normal)
            seen = wait_seen(sensor, state)
            latencies.append(seen - sent)
            page.evaluate("(key) => delete window.__benchSeen[key]", f"{sensor}|{state}")
            time.sleep(0.25)
    client.loop_stop()
    client.disconnect()
    context.close()
    return {"samples_ms": [round(x, 1) for x in latencies], **summary(latencies)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker", choices=["mosquitto", "embedded"], default="mosquitto")
    ap.add_argument("--cameras", type=int, default=500)
    ap.add_argument("--sensors", type=int, default=2000)
    ap.add_argument("--incidents", type=int, default=200)
    ap.add_argument("--render-runs", type=int, default=5)
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--probes", type=int, default=10, help="sensors toggled for latency")
    ap.add_argument(
        "--background",
        type=float,
        default=None,
        help="background readings/s during the latency runs (default: sensors / 60)",
    )
    args = ap.parse_args()
    if not CHROMIUM.exists():
        sys.exit(f"{CHROMIUM} not found (apt-get install chromium)")
    rate = args.sensors / 60 if args.background is None else args.background

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="cityops-bench-")))
        if args.broker == "mosquitto":
            if reason := mosquitto_unavailable_reason():
                sys.exit(f"{reason} (or use --broker embedded)")
            mqtt_url: str | None = stack.enter_context(MosquittoServer()).url
        else:
            mqtt_url = None
        config = tmp / "benchcity.yaml"
        config.write_text(town_yaml(args.cameras, args.sensors), encoding="utf-8")
        t0 = time.monotonic()
        server = stack.enter_context(LiveServer(tmp, mqtt_url, [config]))
        started_s = time.monotonic() - t0
        in_alarm = raise_incidents(server, args.sensors, args.incidents)
        rivers = [s for s in sensor_ids(args.sensors, 0) if s not in in_alarm]
        probes = rivers[: args.probes]
        background = [
            f"s{i:04d}"
            for i in range(args.sensors)
            if f"s{i:04d}" not in in_alarm and f"s{i:04d}" not in probes
        ]

        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        stack.callback(browser.close)
        version = browser.version
        session = signed_in(browser, server)
        render = first_render(
            browser,
            server.url,
            args.render_runs,
            {
                "queue": args.incidents,
                "queue_badge": args.incidents,
                "map_incidents": args.incidents,
                "map_sensors": args.sensors,
            },
            session,
        )
        update = update_latency(browser, server, probes, background, args.samples, rate, session)

    result = {
        "benchmark": "console",
        "broker": args.broker,
        "database": "sqlite",
        "chromium": version,
        "cameras": args.cameras,
        "sensors": args.sensors,
        "open_incidents": args.incidents,
        "viewport": "1920x1080",
        "server_start_s": round(started_s, 2),
        "first_render_ms": render,
        "update_latency_ms": {**update, "background_readings_per_s": round(rate, 1)},
        "targets": {
            "first_render_ms": FIRST_RENDER_TARGET_MS,
            "update_latency_ms": UPDATE_TARGET_MS,
        },
        "pass": render["max"] < FIRST_RENDER_TARGET_MS and update["p99"] < UPDATE_TARGET_MS,
    }
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
