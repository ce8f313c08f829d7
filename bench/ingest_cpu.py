"""CPU time per single-reading message on the ingest worker's side, robust to a shared machine.

    python -m bench.ingest_cpu [--messages 20000] [--db sqlite|postgres|both] [--runs 3]

Feeds ``--messages`` single-reading messages (``cityops/<m>/sensors/<s>/readings``, the shape
bench/ingest_latency.py publishes) through the real pipeline: ``bus/mqtt.py``'s ``inbound`` on
a real paho ``MQTTMessage``, then ``IngestPipeline.process`` in batches of 200 (decode, store,
rules, incidents, rule state, acknowledging, the live feed with one listener that serialises
every message as the SSE feed does). The town is bench/ingest_server.py's (1,000 river gauges,
a threshold and a rate-of-change rule on each); 1 % of the readings cross the threshold (each
opens or joins an incident), the next reading of that gauge clears it. With `--silence` each
gauge also has a silence rule (15 min; no tick runs, so it only counts).

Reported: the process's CPU time (user + system, ``time.process_time``) per message, the least
of ``--runs`` runs (a run in which another process took the cores costs wall time, hardly CPU
time). Stores: a SQLite file in WAL (as ``cityops serve`` opens it) and a durable PostgreSQL
(tests/harness, fsync and synchronous_commit on). No MQTT broker: paho's own parsing of each
PUBLISH is not in these figures (docs/BENCHMARKS.md "Where the time goes"). Also reported: the
wall time of a restart's ``restore()`` once the messages are in (every gauge's rule state, and
its rate-of-change window rebuilt from the readings stored since its entry).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from bench.ingest_server import MUNI, SENSORS, import_town, town_yaml
from cityops.app import import_config, load_runtimes
from cityops.bus.mqtt import inbound
from cityops.ingest.pipeline import IngestPipeline
from cityops.ingest.worker import MessageOutcome
from cityops.services.live import LiveBus, LiveMessage
from cityops.store.db import make_engine, upgrade

BATCH = 200
CROSSING_EVERY = 100
"""One reading in a hundred crosses the threshold (> 50)."""


def messages(total: int, start: datetime) -> list[tuple[str, bytes]]:
    """``total`` (topic, payload) pairs, round-robin over the gauges, one second apart per
    gauge; every ``CROSSING_EVERY``-th reading is 60.0 (above the threshold)."""
    out = []
    for n in range(total):
        sensor = n % SENSORS
        ts = start + timedelta(seconds=n // SENSORS)
        value = 60.0 if n % CROSSING_EVERY == CROSSING_EVERY - 1 else 1.0 + (n % 7) * 0.1
        doc = {"value": value, "ts": ts.isoformat()}
        out.append((f"cityops/{MUNI}/sensors/s{sensor}/readings", json.dumps(doc).encode()))
    return out


def _mqtt_message(topic: str, payload: bytes) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(mid=1, topic=topic.encode())
    msg.payload = payload
    msg.qos = 1
    return msg


SILENCE_RULE = (
    "  - {id: quiet, kind: silence, sensor_kinds: [river_level], silence: 15min,\n"
    "     incident: {type: sensor_offline, sector: utilities, severity: minor,\n"
    "                title: 'Offline {name}'}}\n"
)
"""``--silence``: a third rule on each gauge (no tick runs here: it never raises)."""


def run(url: str, total: int, silence: bool = False) -> dict[str, Any]:
    """One run on a fresh town at ``url``: CPU µs per message (and wall, for reference)."""
    with tempfile.TemporaryDirectory() as tmp:
        upgrade(url)
        if silence:
            cfg = Path(tmp) / f"{MUNI}.yaml"
            cfg.write_text(town_yaml(MUNI, SENSORS) + SILENCE_RULE)
            db = make_engine(url)
            import_config(db, cfg, actor="bench")
            db.dispose()
        else:
            import_town(url, Path(tmp), MUNI, SENSORS)
    db = make_engine(url)
    seen = [0]

    def console(batch: Sequence[LiveMessage]) -> None:  # one SSE client: each message as text
        for message in batch:
            seen[0] += len(message.data_json())

    live = LiveBus()
    live.subscribe(console)
    pipeline = IngestPipeline(db, load_runtimes(db), live=live, max_messages_per_batch=BATCH)
    pipeline.restore()
    acked = [0]

    def done(_outcome: MessageOutcome) -> None:
        acked[0] += 1

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    warm = 2 * BATCH * 5
    pairs = messages(total + warm, start)
    try:
        for i in range(0, warm, BATCH):
            pipeline.process([inbound(_mqtt_message(t, p), done) for t, p in pairs[i : i + BATCH]])
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for i in range(warm, warm + total, BATCH):
            pipeline.process([inbound(_mqtt_message(t, p), done) for t, p in pairs[i : i + BATCH]])
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        restarted = IngestPipeline(db, load_runtimes(db))
        wall1 = time.perf_counter()
        restarted.restore()  # rule state, marks, the rate-of-change windows rebuilt
        restore = time.perf_counter() - wall1
    finally:
        db.dispose()
    if acked[0] != total + warm:
        raise SystemExit(f"{acked[0]} of {total + warm} messages acknowledged")
    return {"cpu_us": cpu / total * 1e6, "wall_us": wall / total * 1e6, "restore_s": restore}


def measure(name: str, urls: Sequence[str], total: int, silence: bool) -> dict[str, Any]:
    runs = [run(url, total, silence) for url in urls]
    best = min(runs, key=lambda r: r["cpu_us"])
    return {
        "store": name,
        "messages": total,
        "cpu_us_per_message": round(best["cpu_us"], 1),
        "cpu_us_all_runs": [round(r["cpu_us"], 1) for r in runs],
        "wall_us_per_message": round(best["wall_us"], 1),
        "restore_s_all_runs": [round(r["restore_s"], 3) for r in runs],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--silence", action="store_true", help="a silence rule on each gauge too")
    args = ap.parse_args()
    results = []
    if args.db in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            urls = [f"sqlite:///{Path(tmp) / f'run{i}.db'}" for i in range(args.runs)]
            results.append(measure("sqlite (file, WAL)", urls, args.messages, args.silence))
    if args.db in ("postgres", "both"):
        from tests.harness import PostgresServer

        with PostgresServer(durable=True) as pg:
            urls = [pg.create_database() for _ in range(args.runs)]
            results.append(measure("postgresql (durable)", urls, args.messages, args.silence))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
