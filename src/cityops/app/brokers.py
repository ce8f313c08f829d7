"""The embedded broker a control center starts when no external one is configured."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Engine

from cityops.bus.broker import EmbeddedBroker
from cityops.bus.broker_auth import BrokerAuthority
from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto, embedded_kind
from cityops.mqtt_url import with_credentials
from cityops.services.partition_users import IngestSecretError, read_secret
from cityops.settings import Settings

log = logging.getLogger("cityops.app")


@dataclass(frozen=True, slots=True)
class Embedded:
    broker: EmbeddedBroker | SupervisedMosquitto
    ingest_url: str
    """The ingest's URL, with the credential registered for it."""
    video_url: str | None
    """The in-process video worker's URL with its own credential (when asked for)."""


def ingest_secret_problem(settings: Settings) -> str | None:
    """Why the ingest secret the supervised broker would write partition users with is
    unusable (missing file, too short, both variables set); None when it is fine or unused.
    ``serve`` refuses with this line before starting anything (a refusal, not a traceback)."""
    s = settings
    if s.ingest != "external" or s.mqtt_url is not None:
        return None  # only the embedded broker of a server with external ingest reads it
    try:
        read_secret(s.ingest_secret, s.ingest_secret_file)
    except IngestSecretError as err:
        return str(err)
    return None


def broker_problem(settings: Settings) -> str | None:
    """Why the embedded broker would not keep CityOps's delivery promise: in production, with
    ``CITYOPS_BROKER=auto`` and no Mosquitto installed, it would be amqtt, which loses what it
    acknowledged and CityOps had not stored when CityOps is killed (docs/MQTT.md "Embedded
    broker"). None with an external broker, with Mosquitto, with amqtt asked for by name (a
    choice made knowing that) and in development (`cityops demo` falls back with a warning)."""
    s = settings
    if s.env == "development" or s.mqtt_url is not None or s.broker != "auto":
        return None
    if find_mosquitto(s.mosquitto_bin) is not None:
        return None
    return (
        "Mosquitto is not installed, and the embedded broker would be amqtt, which loses the "
        "readings it acknowledged but CityOps had not stored when CityOps is killed: install "
        "Debian's mosquitto package (or set CITYOPS_MOSQUITTO_BIN), or accept that loss with "
        "CITYOPS_BROKER=amqtt (docs/MQTT.md, Embedded broker)"
    )


def start_embedded_broker(settings: Settings, db: Engine, *, video: bool) -> Embedded:
    """The embedded broker (CITYOPS_BROKER, docs/MQTT.md "Embedded broker"): Mosquitto
    supervised by CityOps when installed, else amqtt in this process. Both hold clients to
    their device credentials (anonymous ones only with CITYOPS_MQTT_ANONYMOUS); this
    process's ingest and video worker get credentials of their own, with unguessable
    usernames (their client ids; Mosquitto's are kept, so the ingest's session survives)."""
    s, url = settings, settings.broker_url
    binary = find_mosquitto(s.mosquitto_bin)
    broker: EmbeddedBroker | SupervisedMosquitto
    if embedded_kind(s.broker, binary) == "mosquitto":
        assert binary is not None
        broker = SupervisedMosquitto(
            binary,
            s.data_dir / "broker",
            db,
            host=s.mqtt_host,
            port=s.mqtt_port,
            anonymous=s.mqtt_anonymous,
            # `cityops ingest` members' partition users (docs/SCALING.md)
            ingest_secret=read_secret(s.ingest_secret, s.ingest_secret_file)
            if s.ingest == "external"
            else None,
            client_prefix=s.ingest_client_prefix,
        )
        ingest = s.mqtt_client_id or broker.internal_name("ingest")
        video_name = broker.internal_name("video")
        register = broker.add_internal
    else:
        authority = BrokerAuthority(db, anonymous=s.mqtt_anonymous)
        broker = EmbeddedBroker(s.mqtt_host, s.mqtt_port, authority)
        ingest = s.mqtt_client_id or f"cityops-ingest-{secrets.token_hex(8)}"
        video_name = f"cityops-video-{secrets.token_hex(8)}"
        register = authority.add_internal
    embedded = Embedded(
        broker,
        with_credentials(url, ingest, register(ingest)),
        with_credentials(url, video_name, register(video_name)) if video else None,
    )
    broker.start()
    log.info("embedded MQTT broker (%s) on %s", type(broker).__name__, broker.url)
    return embedded
