"""The ceiling of any Python consumer here: a subscriber that only counts and acknowledges.

It runs in a process of its own, as `cityops serve` does, with CityOps's own MQTT client set-up
(bus/mqtt.py ``make_client`` and ``connect``: MQTT 5 (3.1.1 on amqtt, as CityOps there), a
persistent session, Receive Maximum 1,000, QoS 1, manual acknowledgement), and acknowledges
each message as it arrives: everything CityOps does per message except decoding, rules and the
database. :func:`ceiling` publishes a stream to it exactly as ``throughput`` publishes
CityOps's (bench/ingest_load.py), on the ``benchceiling/`` topics, which CityOps does not
subscribe to.

    python -m bench.ingest_ceiling <broker URL> <client id> <messages> [5 | 3.1.1]

prints ``ready`` once subscribed, then one JSON line: the count and the wall-clock times of the
first and the last message.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
import threading
import time
from typing import Any

import paho.mqtt.client as mqtt

from bench.ingest_load import Publisher, publish_all, readings, window
from bench.ingest_server import CEILING_PREFIX
from cityops.bus.mqtt import connect, make_client
from cityops.mqtt_url import parse_mqtt_url

TOPIC = f"{CEILING_PREFIX}/readings"
IDLE_S = 30.0
"""The subscriber gives up when no message came for this long."""


def subscribe_and_count(
    url: str, client_id: str, total: int, idle_s: float, protocol: str = "5"
) -> dict[str, Any]:
    """Count messages until ``total`` arrived or none came for ``idle_s``."""
    count, first, last = [0], [0.0], [0.0]
    done, subscribed = threading.Event(), threading.Event()

    def on_connect(client: mqtt.Client, *_: object) -> None:
        client.subscribe([(TOPIC, 1)])

    def on_subscribe(*_: object) -> None:
        subscribed.set()

    def on_message(client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        client.ack(msg.mid, msg.qos)
        now = time.time()
        if not count[0]:
            first[0] = now
        count[0] += 1
        last[0] = now
        if count[0] >= total:
            done.set()

    client = make_client(client_id, persistent=True, manual_ack=True, protocol=protocol)
    client.on_connect = on_connect
    client.on_subscribe = on_subscribe
    client.on_message = on_message
    connect(client, parse_mqtt_url(url), persistent=True)
    client.loop_start()
    if not subscribed.wait(30):
        raise SystemExit("ceiling subscriber: no SUBACK within 30 s")
    print("ready", flush=True)
    seen = -1
    while not done.wait(idle_s) and count[0] != seen:
        seen = count[0]
    client.disconnect()
    client.loop_stop()
    return {"received": count[0], "first_at": first[0], "last_at": last[0]}


def ceiling(
    pub_url: str, sub_url: str, client_id: str, total: int, days_back: float, protocol: str = "5"
) -> dict[str, float]:
    """Single-reading messages/s the do-nothing subscriber receives: ``total`` messages, from
    the first publish to the last message received (as CityOps's rate: first publish to
    last stored)."""
    sub = subprocess.Popen(
        [sys.executable, "-m", "bench.ingest_ceiling", sub_url, client_id, str(total), protocol],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert sub.stdout is not None
        ready, _, _ = select.select([sub.stdout], [], [], 60)
        if not ready or sub.stdout.readline().strip() != "ready":
            raise RuntimeError("the ceiling subscriber did not subscribe")
        pub = Publisher(pub_url)
        start = time.time()
        publish_all(pub, TOPIC, readings(total, 1, window(total, days_back)))
        pub.wait_acked()
        pub.close()
        out, _ = sub.communicate(timeout=600)
        got = json.loads(out.strip().splitlines()[-1])
    finally:
        if sub.poll() is None:
            sub.kill()
            sub.wait()
    elapsed = got["last_at"] - start
    return {
        "messages": total,
        "received": got["received"],
        "lost": total - got["received"],
        "seconds": round(elapsed, 3),
        "messages_per_s": round(got["received"] / elapsed) if elapsed > 0 else 0,
    }


def main() -> None:
    url, client_id, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
    protocol = sys.argv[4] if len(sys.argv) > 4 else "5"
    print(json.dumps(subscribe_and_count(url, client_id, total, IDLE_S, protocol)), flush=True)


if __name__ == "__main__":
    main()
