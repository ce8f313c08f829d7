"""Location requests over MQTT (docs/AGENCIES.md "Location requests", docs/MQTT.md).

An agency's system publishes the same JSON as over HTTP on ``cityops/<m>/agency/<agency>/
requests`` (QoS 1) with a device credential of kind ``agency`` (domain/devices.py: it may publish
there and read its own ``.../responses/#``, so the topic is who it is). The answer (or the
error) goes to the MQTT 5 response topic with the request's correlation data when the request
names one under ``cityops/<m>/agency/<agency>/responses/``, else to
``.../responses/<case>``. The request is served on a thread of this module's pool (not on paho's
network thread, which carries the ingest too) and acknowledged once its answer is published, so
a request CityOps crashed on is delivered again (at least once: the same case joins the same
incident; the repeat gets a share of its own)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy import Engine

from cityops.domain.agency_requests import (
    Refusal,
    RequestRefusedError,
    parse_request_topic,
    reply_topic_allowed,
    response_topic,
    responses_root,
)
from cityops.services import agency_requests as svc
from cityops.services.agency_payload import RequestError, peek
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)

REQUEST_TOPICS = "cityops/+/agency/+/requests"
WORKERS = 2
RETAINED = "retained"
"""The count of requests delivered again as retained messages, and not served again."""
EMPTY = "empty"
"""Requests served at once; each is one short transaction."""


def is_request(topic: str) -> bool:
    return topic.endswith("/requests") and parse_request_topic(topic) is not None


class AgencyRequestServer:
    """Serves the location requests the MQTT ingest client receives, on a pool of its own."""

    def __init__(
        self,
        db: Engine,
        runtimes: Mapping[str, MunicipalityRuntime],
        live: LiveBus,
        public_url: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.runtimes = runtimes
        self.live = live
        self.public_url = public_url
        self.clock = clock
        self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="agency-request")

    def submit(
        self, client: mqtt.Client, topic: str, msg: mqtt.MQTTMessage, ack: Callable[[], None]
    ) -> None:
        """Called on paho's thread with the message's (valid UTF-8) topic: to the pool. A request
        delivered as retained (a retained request, sent again because the ingest subscribed
        again after a reconnect) was served when it was published: it is acknowledged and
        counted (``retained``), not served a second time; so is an empty message (``empty``: what
        clears a retained message)."""
        received = time.perf_counter()
        if msg.retain or not msg.payload:  # an empty message clears a retained one: no request
            svc.COUNTS.add(RETAINED if msg.retain else EMPTY)
            log.info("location request on %r not served again (retained or empty)", topic)
            ack()
            return
        props = getattr(msg, "properties", None)
        reply = getattr(props, "ResponseTopic", None) if props is not None else None
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        self._pool.submit(
            self._serve, client, topic, bytes(msg.payload), reply, correlation, received, ack
        )

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)

    def answer(
        self, topic: str, payload: bytes, reply: str | None, received: float
    ) -> tuple[str, str]:
        """(topic, JSON) of the answer to one request: the share's link, or the refusal."""
        parsed = parse_request_topic(topic)
        assert parsed is not None
        municipality, agency = parsed
        case, request_id = peek(payload)
        target = response_topic(municipality, agency, case)
        try:
            if reply is not None and not reply_topic_allowed(municipality, agency, reply):
                root = responses_root(municipality, agency)
                raise RequestRefusedError(
                    Refusal.MALFORMED, f"the response topic must be under {root}/"
                )
            target = reply or target
            rt = self.runtimes.get(municipality)
            if rt is None:
                raise RequestRefusedError(
                    Refusal.AGENCY_NOT_ALLOWED, f"unknown municipality {municipality!r}"
                )
        except RequestRefusedError as err:
            svc.COUNTS.add(err.reason.value)  # refused before handle(), which counts the rest
            return target, _error(err, case, request_id)
        who = svc.Requester(agency=agency, via="mqtt", actor=f"mqtt:{agency}")
        try:
            served = svc.handle(
                self.db,
                rt,
                self.live,
                payload,
                who,
                public_url=self.public_url,
                clock=self.clock,
                received=received,
            )
        except RequestRefusedError as err:
            return target, _error(err, case, request_id)
        return target, served.model_dump_json()

    def _serve(
        self,
        client: mqtt.Client,
        topic: str,
        payload: bytes,
        reply: str | None,
        correlation: bytes | None,
        received: float,
        ack: Callable[[], None],
    ) -> None:
        try:
            target, body = self.answer(topic, payload, reply, received)
            props = None
            if client.protocol == mqtt.MQTTv5 and correlation is not None:
                props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
                props.CorrelationData = correlation
            client.publish(target, body, qos=1, properties=props)
        except Exception:  # a request must never kill the pool's thread; it is acked below
            log.exception("location request on %r failed", topic)
        finally:
            ack()


def _error(err: RequestRefusedError, case: str | None, request_id: str | None) -> str:
    shown = RequestError(
        status=err.status, reason=err.reason, detail=err.message, case=case, request_id=request_id
    )
    return shown.model_dump_json()
