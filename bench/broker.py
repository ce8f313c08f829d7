"""The embedded brokers side by side, in alternating short runs (compare within one run: the
figures move with the machine's load).

    python -m bench.broker [--rounds 3] [--messages 20000] [--readings 10000]

Each round measures, for amqtt and for the Mosquitto that CityOps supervises:

- ``carry``: what the broker alone carries: one paho QoS 1 publisher -> broker -> one paho QoS 1
  subscriber that only counts (no CityOps); amqtt runs in a process of its own here;
- ``stored``: `cityops serve` on SQLite with that embedded broker (``CITYOPS_BROKER``), single
  reading messages at QoS 1 from a gateway with its own credential, counted once committed
  (bench/ingest.py's ``throughput``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from tests.harness import LOOPBACK, free_port

from bench.ingest import server, throughput
from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto

AMQTT = (
    "import sys, time\n"
    "from cityops.bus.broker import EmbeddedBroker\n"
    "EmbeddedBroker('127.0.0.1', int(sys.argv[1])).start()\n"
    "while True: time.sleep(60)\n"
)


def carried(port: int, total: int) -> float:
    """Messages/s from the first publish until the subscriber has received ``total``."""
    done, count = threading.Event(), [0]

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        count[0] += 1
        if count[0] >= total:
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-carry-sub")
    sub.on_message = on_message
    sub.connect(LOOPBACK, port)
    sub.subscribe("bench/#", 1)
    sub.loop_start()
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-carry-pub")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    pub.connect(LOOPBACK, port)
    pub.loop_start()
    time.sleep(0.5)  # both connected and subscribed
    start = time.perf_counter()
    for _ in range(total):
        pub.publish("bench/x", b'{"value": 1.0}', qos=1)
    finished = done.wait(300)
    elapsed = time.perf_counter() - start
    pub.loop_stop()
    sub.loop_stop()
    if not finished:
        raise RuntimeError(f"only {count[0]} of {total} messages arrived")
    return total / elapsed


def carry(kind: str, total: int) -> float:
    port = free_port()
    if kind == "amqtt":
        proc = subprocess.Popen([sys.executable, "-c", AMQTT, str(port)])
        try:
            time.sleep(4.0)  # imports and start
            return carried(port, total)
        finally:
            proc.kill()
            proc.wait()
    binary = find_mosquitto()
    if binary is None:
        raise RuntimeError("Mosquitto is not installed")
    with tempfile.TemporaryDirectory() as tmp:
        broker = SupervisedMosquitto(binary, Path(tmp), None, port=port, anonymous=True)
        broker.start()
        try:
            return carried(port, total)
        finally:
            broker.stop()


def stored(kind: str, readings: int, days_back: int) -> float:
    mode = "embedded" if kind == "amqtt" else "supervised"
    with tempfile.TemporaryDirectory() as tmp, server(mode, Path(tmp)) as (db, mq, _port, _tok):
        result = throughput(db, mq, readings, 1, days_back=days_back)
    if result["lost"]:
        raise RuntimeError(f"{kind}: {result['lost']} readings lost")
    return result["readings_per_s"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=20_000, help="per carry run")
    ap.add_argument("--readings", type=int, default=10_000, help="per stored run")
    args = ap.parse_args()
    for r in range(args.rounds):
        for kind in ("amqtt", "mosquitto"):
            row = {
                "round": r,
                "broker": kind,
                "carry_per_s": round(carry(kind, args.messages)),
                "stored_per_s": round(stored(kind, args.readings, days_back=20 + r)),
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
