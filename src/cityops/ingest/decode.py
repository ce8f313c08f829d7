"""One inbound message -> its municipality and what it holds: the topic picks the decoder
(``payloads`` for CityOps's topics, ``frigate`` for a municipality's Frigate prefix)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from cityops.ingest.frigate import decode_frigate, frigate_prefix
from cityops.ingest.payloads import (
    DEFAULT_WINDOW,
    Decoded,
    Reason,
    Rejected,
    Rejection,
    TimeWindow,
    TopicKind,
    decode_events,
    decode_json,
    decode_readings,
    parse_topic,
)
from cityops.ingest.persons import PersonTopic, decode_person, parse_person_topic
from cityops.ingest.worker import InboundMessage
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    max_payload_bytes: int = 262144
    max_batch: int = 5000
    window: TimeWindow = DEFAULT_WINDOW


def _refused(reason: Reason, detail: str) -> tuple[None, Decoded]:
    return None, Decoded(rejections=[Rejection(reason, detail)])


def frigate_runtime(
    topic: str, runtimes: Mapping[str, MunicipalityRuntime]
) -> MunicipalityRuntime | None:
    """The municipality whose Frigate publishes on ``topic`` (``<its prefix>/events``)."""
    prefix = frigate_prefix(topic)
    if prefix is None:
        return None
    return next(
        (
            rt
            for rt in runtimes.values()
            if rt.config.frigate is not None and rt.config.frigate.topic_prefix == prefix
        ),
        None,
    )


def decode_message(
    message: InboundMessage, runtimes: Mapping[str, MunicipalityRuntime], limits: Limits
) -> tuple[str | None, Decoded]:
    """The municipality (None when the topic names none) and the message's readings, events
    and rejections. Never raises: a decoder bug costs this message (``internal_error``)."""
    if not message.topic_valid:
        return _refused(Reason.TOPIC_ENCODING, f"topic {message.topic[:200]} is not UTF-8")
    topic = parse_topic(message.topic)  # the commonest first: a sensor's or a gateway's
    if topic is None:
        person = parse_person_topic(message.topic)  # a vulnerable person's (ingest/persons.py)
        if person is not None:
            return _person_message(message, person, runtimes, limits)
    frigate = None if topic is not None else frigate_runtime(message.topic, runtimes)
    if topic is None and frigate is None:
        return _refused(Reason.TOPIC, f"topic {message.topic[:200]!r} is not a CityOps topic")
    rt = frigate or runtimes.get(topic.municipality if topic else "")
    if rt is None:
        muni = topic.municipality if topic else ""
        return _refused(Reason.MUNICIPALITY, f"unknown municipality {muni!r}")
    received, window, max_batch = message.received_at, limits.window, limits.max_batch
    try:
        doc = decode_json(message.payload, limits.max_payload_bytes)
        if topic is None:
            assert rt.config.frigate is not None
            return rt.id, decode_frigate(
                doc, rt.id, rt.config.frigate, rt.cameras, received, window
            )
        if topic.kind in (TopicKind.SENSOR, TopicKind.GATEWAY):
            return rt.id, decode_readings(doc, topic, rt.sensors, received, max_batch, window)
        return rt.id, decode_events(doc, topic, rt.cameras, received, max_batch, window)
    except Rejected as err:
        return rt.id, Decoded(rejections=[Rejection(err.reason, err.detail)])
    except Exception as err:  # a decoder bug must cost one message, never the worker
        log.exception("decoding a message failed")
        failed = Rejection(Reason.INTERNAL, f"decoding failed: {type(err).__name__}")
        return rt.id, Decoded(rejections=[failed])


def _person_message(
    message: InboundMessage,
    topic: PersonTopic,
    runtimes: Mapping[str, MunicipalityRuntime],
    limits: Limits,
) -> tuple[str | None, Decoded]:
    if topic.municipality not in runtimes:
        return _refused(Reason.MUNICIPALITY, f"unknown municipality {topic.municipality!r}")
    try:
        doc = decode_json(message.payload, limits.max_payload_bytes)
        return topic.municipality, decode_person(doc, topic, message.received_at, limits.window)
    except Rejected as err:
        return topic.municipality, Decoded(rejections=[Rejection(err.reason, err.detail)])
    except Exception as err:  # a decoder bug must cost one message, never the worker
        log.exception("decoding a person's message failed")
        failed = Rejection(Reason.INTERNAL, f"decoding failed: {type(err).__name__}")
        return topic.municipality, Decoded(rejections=[failed])
