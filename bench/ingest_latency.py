"""Trigger-to-live-feed latency at a fixed background rate (bench/ingest.py).

A background publisher sends single-reading messages (one reading per MQTT message, QoS 1) of
ordinary values at ``rate`` per second, paced against the clock, to sensors s800-s999; a second
publisher sends, 20 times a second, a reading above the threshold to a sensor of its own
(``first_sensor``..), and a listener on the municipality's live feed (SSE) notes when each
sensor's new incident arrives: either the whole feed, as the console reads it, or only its
incidents (``?kinds=incident``, docs/LIVE.md), as an incident board or an agency's system
does. The background rate is reported as published (handed to the client library; its QoS 1
acknowledgements are awaited at the end) and as stored (the server's counter, less the samples)
over the sampling window, and whether both came within 5 % of the target.

Each sample's path is also split where the server began the batch that opened its incident (the
incident's ``created_at``, stamped at the batch's start): before it, the publisher, the broker,
the server's MQTT client and its queue; after it, the batch's evaluation and commit, what
follows the commit (acknowledgements, the incident read for the feed) and the SSE hop.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.ingest_load import Accepted, Publisher
from bench.ingest_server import MUNI, SENSORS
from bench.ingest_stats import achieved, latency_figures

BACKGROUND_FIRST = 800
"""Background load goes to s800..s999; trigger samples use s0..s799."""
SAMPLE_GAP_S = 0.05


def _listen(
    url: str,
    token: str,
    got: dict[str, tuple[float, float]],
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    """Note when each sample's incident arrives (perf_counter) and when its batch began on the
    server (the incident's ``created_at``, the wall clock)."""
    try:
        _read_feed(url, token, got, ready, stop)
    except httpx.HTTPError:
        if not stop.is_set():  # the server going away after the phase is not a failure
            raise


def _read_feed(
    url: str,
    token: str,
    got: dict[str, tuple[float, float]],
    ready: threading.Event,
    stop: threading.Event,
) -> None:
    with httpx.stream(
        "GET",
        url,
        timeout=None,
        headers={"Authorization": f"Bearer {token}"},
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
                    began = datetime.fromisoformat(data["created_at"]).timestamp()
                    got.setdefault(f"s{name}", (time.perf_counter(), began))
            if stop.is_set():
                return


def _background(pub: Publisher, rate: int, stop: threading.Event) -> None:
    """``rate`` messages/s against the clock: each pass sends what is due by now."""
    start, sent, k = time.perf_counter(), 0, 0
    span = SENSORS - BACKGROUND_FIRST
    while not stop.is_set():
        due = int((time.perf_counter() - start) * rate)
        while sent < due:
            doc = {"value": 1.0, "ts": datetime.now(UTC).isoformat()}
            sensor = f"s{BACKGROUND_FIRST + k % span}"
            pub.publish(f"cityops/{MUNI}/sensors/{sensor}/readings", json.dumps(doc))
            sent, k = sent + 1, k + 1
        pub.pump(0.002)


def latency(
    gateway_url: str,
    trigger_url: str,
    http_port: int,
    token: str,
    samples: int,
    rate: int,
    first_sensor: int = 0,
    kinds: str | None = None,
) -> dict[str, Any]:
    """p50/p99 from publishing a threshold-crossing reading to its incident on the SSE feed,
    with ``rate`` single-reading messages/s of background load. The load and the samples are
    sent by two gateways of their own (``gateway_url``, ``trigger_url``): the samples do not
    queue behind the load in one client. ``kinds``: the live feed's ``kinds`` (None: all)."""
    if first_sensor + samples > BACKGROUND_FIRST:
        raise ValueError(f"samples use s{first_sensor}..: at most s{BACKGROUND_FIRST - 1}")
    sent: dict[str, tuple[float, float]] = {}
    got: dict[str, tuple[float, float]] = {}
    ready, stop = threading.Event(), threading.Event()
    url = f"http://127.0.0.1:{http_port}/api/v1/m/{MUNI}/live"
    if kinds is not None:
        url += f"?kinds={kinds}"
    threading.Thread(target=_listen, args=(url, token, got, ready, stop), daemon=True).start()
    ready.wait(10)
    accepted = Accepted(http_port, token)
    load, trigger = Publisher(gateway_url), Publisher(trigger_url)
    bg = threading.Thread(target=_background, args=(load, rate, stop), daemon=True)
    bg.start()
    time.sleep(1.0)  # the load's steady state
    t0, sent0, stored0 = time.perf_counter(), load.sent, accepted()
    for i in range(first_sensor, first_sensor + samples):
        doc = {"value": 60.0, "ts": datetime.now(UTC).isoformat()}
        sent[f"s{i}"] = (time.perf_counter(), time.time())
        trigger.publish(f"cityops/{MUNI}/sensors/s{i}/readings", json.dumps(doc))
        trigger.pump(SAMPLE_GAP_S)
    span = time.perf_counter() - t0
    published = (load.sent - sent0) / span
    stored = (accepted() - stored0 - len(got)) / span  # less the samples stored by now
    deadline = time.monotonic() + 30
    while len(got) < samples and time.monotonic() < deadline:
        time.sleep(0.05)
    stop.set()
    bg.join(10)
    for pub in (load, trigger):
        pub.wait_acked(60)
        pub.close()
    lat = [(got[s][0] - sent[s][0]) * 1000 for s in sent if s in got]
    # the same path in two parts, at the server's batch start (the incident's created_at)
    before = [(got[s][1] - sent[s][1]) * 1000 for s in sent if s in got]
    after = [lat_ms - b for lat_ms, b in zip(lat, before, strict=True)]
    lag = accepted.snapshot().get("lag_ms")
    return {
        "background_target_per_s": rate,
        "live_feed": kinds or "all",
        "background_published_per_s": round(published),
        "background_stored_per_s": round(stored),
        "background_achieved": achieved(rate, published) and achieved(rate, stored),
        "samples": samples,
        "received": len(lat),
        **latency_figures(lat, missing=samples - len(lat)),
        "publish_to_batch_start_ms": latency_figures(before),
        "batch_start_to_feed_ms": latency_figures(after),
        "server_receive_to_commit_ms": lag,
    }
