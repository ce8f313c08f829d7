"""The server's MQTT client when ingest runs in `cityops ingest` processes (docs/SCALING.md)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence

import paho.mqtt.client as mqtt

from cityops.bus.agency_mqtt import REQUEST_TOPICS, AgencyRequestServer, is_request
from cityops.bus.mqtt import connect, inbound, make_client, publish_incidents
from cityops.ingest.detections import DETECTIONS_TOPICS, decode_detections, is_detections
from cityops.mqtt_url import parse_mqtt_url
from cityops.services.live import LiveBus, LiveMessage
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)


class ControlSession:
    """The server's MQTT client when ingest is external (CITYOPS_INGEST=external): agencies'
    location requests, cameras' detections (to the live feed, never stored) and incident
    changes published (retained, as MqttIngest does); no readings: those are the partition
    sessions'. A persistent session of its own (``<ingest client id>-control``)."""

    def __init__(
        self,
        url: str,
        live: LiveBus,
        runtimes: Mapping[str, MunicipalityRuntime],
        client_id: str,
        *,
        protocol: str = "5",
        agency: AgencyRequestServer | None = None,
    ) -> None:
        self.address, self.live, self.runtimes, self.agency = (
            parse_mqtt_url(url),
            live,
            runtimes,
            agency,
        )
        self.client = make_client(client_id, persistent=True, manual_ack=True, protocol=protocol)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.connected = threading.Event()
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self._unsubscribe = live.subscribe(self._on_live)

    def start(self, wait_s: float = 15.0) -> None:
        connect(self.client, self.address, persistent=True)
        self.client.loop_start()
        if not self.connected.wait(wait_s):
            log.warning("MQTT broker not reachable yet; retrying in the background")

    def stop(self) -> None:
        self._unsubscribe()
        if self.agency is not None:
            self.agency.stop()
        self.client.disconnect()
        self.client.loop_stop()

    def update_subscriptions(self) -> None:
        """Nothing here follows the configuration (Frigate is the partition sessions')."""

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            log.error("MQTT connection refused: %s", rc)
            return
        topics = [(REQUEST_TOPICS, 1)] if self.agency is not None else []
        client.subscribe([*topics, (DETECTIONS_TOPICS, 0)])
        self.connected.set()

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        mid, qos = msg.mid, msg.qos

        def ack() -> None:
            if qos > 0:
                client.ack(mid, qos)

        message = inbound(msg, None)
        if self.agency is not None and message.topic_valid and is_request(message.topic):
            self.agency.submit(client, message.topic, msg, ack)
            return
        if message.topic_valid and is_detections(message.topic):
            live = decode_detections(message.topic, message.payload, self.runtimes)
            if live is not None:
                self.live.publish(live)
        ack()

    def _on_live(self, messages: Sequence[LiveMessage]) -> None:
        publish_incidents(self.client, messages)
