"""The worker's MQTT connection: it publishes results, keeps its own presence and watches the
other workers'.

Presence: a retained JSON message on ``cityops/_workers/<worker-id>`` (id, host, pid, the cameras
it runs). The connection's Last Will is an empty retained message on the same topic, so when a
worker dies the broker clears its presence after 1.5 keep-alive periods without a packet, and
every other worker sees it leave. A worker that stops cleanly clears it itself.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cityops.mqtt_url import parse_mqtt_url
from cityops.video.worker.publish import WORKERS_TOPIC, Message, iso

log = logging.getLogger(__name__)

MAX_QUEUED = 10_000
"""Messages kept while the broker is unreachable (then the newest are dropped, not the memory)."""


class WorkerLink:
    def __init__(self, url: str, worker_id: str, *, keepalive_s: int = 10) -> None:
        self.worker_id = worker_id
        self.topic = f"{WORKERS_TOPIC}/{worker_id}"
        self.connected = threading.Event()
        self._target = parse_mqtt_url(url)
        self._keepalive = keepalive_s
        self._lock = threading.Lock()
        self._peers: dict[str, dict[str, object]] = {}
        self._cameras: list[str] = []
        self._errors: dict[str, str] = {}
        self._started = iso(datetime.now(UTC))
        self._stopping = False
        c = self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"cityops-video-{worker_id}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        if self._target.username:
            c.username_pw_set(self._target.username, self._target.password)
        if self._target.tls:
            c.tls_set()
        c.will_set(self.topic, b"", qos=1, retain=True)
        c.reconnect_delay_set(1, 10)
        c.max_queued_messages_set(MAX_QUEUED)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message

    def start(self) -> None:
        self.client.connect_async(self._target.host, self._target.port, self._keepalive)
        self.client.loop_start()

    def peers(self) -> set[str]:
        """The live workers as the broker last told (this one included)."""
        with self._lock:
            return set(self._peers) | {self.worker_id}

    def presence(self, cameras: Sequence[str], errors: Mapping[str, str]) -> None:
        """Publish (retained) that this worker is alive, runs ``cameras`` and why some of them
        give no frames (``errors``: camera -> reason)."""
        with self._lock:
            self._cameras = list(cameras)
            self._errors = dict(errors)
        self._publish_presence()

    def publish(self, message: Message) -> None:
        self.client.publish(message.topic, message.payload, qos=message.qos, retain=message.retain)

    def stop(self) -> None:
        self._stopping = True
        if self.connected.is_set():
            info = self.client.publish(self.topic, b"", qos=1, retain=True)
            info.wait_for_publish(2.0)
        self.client.disconnect()
        self.client.loop_stop()

    def _publish_presence(self) -> None:
        with self._lock:
            doc = {
                "id": self.worker_id,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "started": self._started,
                "keepalive_s": self._keepalive,
                "cameras": self._cameras,
                "errors": self._errors,
            }
        self.client.publish(self.topic, json.dumps(doc).encode(), qos=1, retain=True)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        _props: object,
    ) -> None:
        if reason.is_failure:
            log.warning(
                "video worker %s: broker refused the connection: %s", self.worker_id, reason
            )
            return
        client.subscribe(f"{WORKERS_TOPIC}/+", qos=1)
        self._publish_presence()
        self.connected.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.connected.clear()
        if not self._stopping:
            log.warning("video worker %s: lost the broker; reconnecting", self.worker_id)

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        peer = msg.topic.rsplit("/", 1)[-1]
        with self._lock:
            if not msg.payload:
                self._peers.pop(peer, None)
                return
            try:
                doc = json.loads(msg.payload)
            except ValueError:
                log.warning("ignoring a malformed worker presence on %s", msg.topic)
                return
            if isinstance(doc, dict):
                self._peers[peer] = doc
