"""The MQTT side of ingest: a persistent QoS 1 session whose PUBACKs wait for the database."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from cityops.bus.agency_mqtt import REQUEST_TOPICS, AgencyRequestServer, is_request
from cityops.bus.mqtt_acks import BatchedAcks
from cityops.bus.paho_speed import install as install_paho_speed
from cityops.ingest.cap_mqtt import CAP_TOPICS, CapMqtt
from cityops.ingest.detections import DETECTIONS_TOPICS, decode_detections, is_detections
from cityops.ingest.pipeline import InboundMessage, IngestPipeline, MessageOutcome
from cityops.mqtt_url import MqttTarget, parse_mqtt_url
from cityops.services.live import LiveMessage
from cityops.services.views import IncidentSummary

log = logging.getLogger(__name__)

SUBSCRIPTIONS = (
    "cityops/+/sensors/+/readings",
    "cityops/+/readings",
    "cityops/+/cameras/+/events",
    CAP_TOPICS,
    "cityops/+/events/+",
    "cityops/+/persons/+/position",  # vulnerable people's devices (ingest/persons.py)
    "cityops/+/persons/+/sos",
)
EMBEDDED_MANGLED = ("b'cityops/#", 'b"cityops/#')
"""The embedded broker (amqtt 0.12) turns a topic that is not UTF-8 into the text of its Python
bytes literal (``b'cityops/x/sensors/\\xff/readings'``) and routes it under that name: these
subscriptions catch such messages so they are counted and dead-lettered, not dropped."""


def inbound(msg: mqtt.MQTTMessage, done: Callable[[MessageOutcome], None] | None) -> InboundMessage:
    """A received message as the pipeline takes it; a topic that is not UTF-8 (paho's
    ``msg.topic`` would raise) or that the embedded broker mangled is marked invalid."""
    raw: bytes = msg._topic  # undecoded; paho has no public accessor
    try:
        topic = raw.decode("utf-8")
        valid = not topic.startswith(("b'cityops/", 'b"cityops/'))
    except UnicodeDecodeError:
        topic, valid = raw.decode("utf-8", "backslashreplace"), False
    return InboundMessage(
        topic=topic,
        payload=bytes(msg.payload),
        received_at=datetime.now(UTC),
        source="mqtt",
        done=done,
        topic_valid=valid,
    )


def frigate_topics(pipeline: IngestPipeline) -> frozenset[str]:
    """The events topic of each configured Frigate (docs/MQTT.md "Frigate")."""
    return frozenset(
        f"{rt.config.frigate.topic_prefix}/events"
        for rt in list(pipeline.runtimes.values())
        if rt.config.frigate is not None
    )


CLIENT_ID_FILE = "mqtt-client-id"


def ingest_client_id(data_dir: Path, username: str | None, configured: str | None = None) -> str:
    """The ingest's persistent-session client id: ``CITYOPS_MQTT_CLIENT_ID``; else its username
    (what Mosquitto's ``use_username_as_clientid`` and the embedded broker make it anyway); else,
    on a broker without authentication, ``cityops-ingest-<random>-<host>``, drawn once per
    installation and kept in ``<data_dir>/mqtt-client-id`` so the session survives restarts and
    the id cannot be guessed from the host name."""
    if configured:
        return configured
    if username:
        return username
    path = data_dir / CLIENT_ID_FILE
    try:
        kept = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return kept
    made = f"cityops-ingest-{secrets.token_hex(8)}-{socket.gethostname()}"[:64]
    data_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(made + "\n")
    return made


RECEIVE_MAXIMUM = 1000
"""Unacknowledged QoS 1 messages the broker may send us at once (MQTT 5). Under MQTT 3.1.1 the
broker decides (Mosquitto: ``max_inflight_messages``, default 20), which caps a persistent
manual-ack subscriber at 20 messages per database transaction."""
SESSION_EXPIRY_S = 7 * 24 * 3600
"""How long the broker keeps our session and its queue while CityOps is down (MQTT 5)."""

QUEUE_LIMIT = 5 * RECEIVE_MAXIMUM
"""Messages queued for the ingest worker (from every client of it) beyond which a client's
network thread waits before taking another: Mosquitto resuming a persistent session with a
backlog was measured sending tens of thousands past Receive Maximum (docs/BENCHMARKS.md)."""


def make_client(
    client_id: str, *, persistent: bool, manual_ack: bool = False, protocol: str = "5"
) -> mqtt.Client:
    install_paho_speed()  # MQTT 5 properties decoded without rebuilding paho's tables
    if protocol == "5":
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            manual_ack=manual_ack,
        )
    else:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=not persistent,
            manual_ack=manual_ack,
        )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    return client


def connect(client: mqtt.Client, address: MqttTarget, *, persistent: bool) -> None:
    if address.username:
        client.username_pw_set(address.username, address.password)
    if address.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    if client.protocol == mqtt.MQTTv5:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        if persistent:
            props.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect_async(
            address.host,
            address.port,
            keepalive=30,
            clean_start=not persistent,
            properties=props,
        )
    else:
        client.connect_async(address.host, address.port, keepalive=30)


def publish_incidents(client: mqtt.Client, messages: Sequence[LiveMessage]) -> None:
    """The live feed's incident changes published retained on ``cityops/<m>/incidents/<id>``
    (the ingest session's and, with external ingest, the server's control session's)."""
    for message in messages:
        if isinstance(message.payload, IncidentSummary):
            client.publish(
                f"cityops/{message.municipality}/incidents/{message.payload.id}",
                message.data_json(),
                qos=1,
                retain=True,
            )


class MqttIngest:
    """Subscribes to device topics, hands messages to the pipeline, acks them once stored.

    It also publishes incident changes (retained) on ``cityops/<m>/incidents/<id>``.
    """

    def __init__(
        self,
        url: str,
        pipeline: IngestPipeline,
        client_id: str | None = None,
        *,
        protocol: str = "5",
        embedded: bool = False,
        agency: AgencyRequestServer | None = None,
    ) -> None:
        self.address = parse_mqtt_url(url)
        self.subscriptions = SUBSCRIPTIONS + (EMBEDDED_MANGLED if embedded else ())
        self.agency = agency
        """Serves agencies' location requests (bus/agency_mqtt.py), when given."""
        if agency is not None:
            self.subscriptions += (REQUEST_TOPICS,)
        self.pipeline = pipeline
        self.client_id = (
            client_id or self.address.username or f"cityops-ingest-{secrets.token_hex(8)}"
        )
        self.client = make_client(
            self.client_id, persistent=True, manual_ack=True, protocol=protocol
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self.connected = threading.Event()
        self.frigate_topics: frozenset[str] = frozenset()
        """``<prefix>/events`` of every municipality's Frigate, as subscribed."""
        self._unsubscribe = pipeline.live.subscribe(self._on_live)
        self.stopping_client = False
        self._acks = BatchedAcks(self.client)
        pipeline.ack_flushes.append(self._acks.flush)
        self.cap: CapMqtt | None = None
        """Takes ``cityops/<m>/cap`` (CAP alerts) when public warnings run (docs/CAP.md)."""

    def start(self, wait_s: float = 15.0) -> None:
        connect(self.client, self.address, persistent=True)
        self.client.loop_start()
        if not self.connected.wait(wait_s):
            log.warning(
                "MQTT broker %s:%s not reachable yet; retrying in the background",
                self.address.host,
                self.address.port,
            )

    def stop(self) -> None:
        self.stopping_client = True  # a network thread held in wait_for_room lets go
        self._unsubscribe()
        if self._acks.flush in self.pipeline.ack_flushes:
            self.pipeline.ack_flushes.remove(self._acks.flush)
        if self.agency is not None:
            self.agency.stop()  # answers the requests in hand before the client goes
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.error("MQTT connection refused: %s", rc)
            return
        self.frigate_topics = self.frigate_wanted()
        topics = [*self.subscriptions, *sorted(self.frigate_topics)]
        client.subscribe([(topic, 1) for topic in topics] + [(DETECTIONS_TOPICS, 0)])
        self.connected.set()
        log.info("MQTT ingest connected to %s:%s", self.address.host, self.address.port)

    def frigate_wanted(self) -> frozenset[str]:
        """The Frigate events topics this client takes (every municipality's here)."""
        return frigate_topics(self.pipeline)

    def update_subscriptions(self) -> None:
        """Follow the configuration: subscribe to a new Frigate prefix, leave a dropped one."""
        topics = self.frigate_wanted()
        new, gone = topics - self.frigate_topics, self.frigate_topics - topics
        self.frigate_topics = topics
        if new:
            self.client.subscribe([(topic, 1) for topic in sorted(new)])
        if gone:
            self.client.unsubscribe(sorted(gone))
        if new or gone:
            log.info("Frigate topics now %s", ", ".join(sorted(topics)) or "none")

    def _on_disconnect(
        self, _c: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        self.connected.clear()
        log.warning("MQTT ingest disconnected (%s); paho reconnects", rc)

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        mid, qos = msg.mid, msg.qos

        def ack(_outcome: MessageOutcome) -> None:
            if qos > 0:
                client.ack(mid, qos)

        def batched(_outcome: MessageOutcome) -> None:
            self._acks.add(mid)  # written after the batch (IngestWorker.ack_flushes)

        message = inbound(msg, ack)
        if self.agency is not None and message.topic_valid and is_request(message.topic):
            self.agency.submit(client, message.topic, msg, lambda: ack(MessageOutcome(0, ())))
            return
        if message.topic_valid and is_detections(message.topic):
            # what a camera sees now: straight to the live feed, never stored (ingest/detections.py)
            live = decode_detections(message.topic, message.payload, self.pipeline.runtimes)
            if live is not None:
                self.pipeline.live.publish(live)
            ack(MessageOutcome(0, ()))
            return
        if self.cap is not None and self.cap.offer(message):
            return
        if qos == 1 and client is self.client:
            message.done = batched
        self.pipeline.wait_for_room(QUEUE_LIMIT, lambda: self.stopping_client)
        self.pipeline.submit(message)

    def _on_live(self, messages: Sequence[LiveMessage]) -> None:
        publish_incidents(self.client, messages)
