"""The broker sessions of partitions no ingest member has held yet (docs/SCALING.md "A new
partition's session").

A broker queues a message for a persistent session only once that session exists and has
subscribed: a partition's session is made by the first member that takes it, so readings a new
municipality's devices send before then would be dropped (no subscriber). ``cityops mqtt
sync``, which writes the partition's broker user, therefore also makes its session at once:
it connects as the partition's user with its client id, ``clean_start=False`` and the session
expiry the members use, subscribes to the partition's topics, and disconnects, so the broker
queues from that moment on and the first member to take the partition receives everything.

It never takes a session from a member: only partitions no member ever claimed (epoch 0) are
seeded, each with its database row locked (``FOR UPDATE``) while its seeding session lives
(a CONNECT, a SUBSCRIBE, a DISCONNECT), so a member's claim waits until that session is
gone. A session already present is left as it is (disconnected at once, nothing
acknowledged: the broker keeps whatever it holds and sends it again to the next holder)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from sqlalchemy import Engine

from cityops.bus.mqtt import connect, make_client
from cityops.bus.partitions import REFUSED, partition_topics, refusal
from cityops.mqtt_url import parse_mqtt_url, with_credentials
from cityops.services.partition_users import PartitionUser, partition_password
from cityops.services.partitions import ensure, unclaimed

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SeedReport:
    created: list[str] = field(default_factory=list)
    """Partitions whose session this call made."""
    present: list[str] = field(default_factory=list)
    """Partitions whose session the broker already held (left untouched)."""
    held: list[str] = field(default_factory=list)
    """Partitions a member has claimed (its session is the member's business)."""
    refused: dict[str, str] = field(default_factory=dict)
    """Partition -> why its session could not be made (e.g. the broker not reloaded yet)."""


class _Seeder:
    """One connection: CONNACK, SUBACK, told through events from paho's thread."""

    def __init__(self, client_id: str) -> None:
        self.client = make_client(client_id, persistent=True, manual_ack=True, protocol="5")
        self.connacked = threading.Event()
        self.subacked = threading.Event()
        self.refusal: str | None = None
        self.session_present = False
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.subacked.set()
        self.client.on_message = lambda *_a: None  # never acknowledged: kept by the broker

    def _on_connect(
        self, _c: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            self.refusal = refusal(rc)
        self.session_present = bool(flags.session_present)
        self.connacked.set()


class SeedError(RuntimeError):
    """A session could not be made (the message says why)."""


def seed_session(url: str, client_id: str, topics: Sequence[str], wait_s: float) -> bool:
    """Make ``client_id``'s persistent session subscribed to ``topics`` unless the broker
    holds it already; whether it did (SeedError: why it could not)."""
    seeder = _Seeder(client_id)
    connect(seeder.client, parse_mqtt_url(url), persistent=True)
    seeder.client.loop_start()
    try:
        if not seeder.connacked.wait(wait_s):
            raise SeedError("the broker did not answer")
        if seeder.refusal is not None:
            raise SeedError(seeder.refusal)
        if seeder.session_present:
            return False
        seeder.client.subscribe([(topic, 1) for topic in topics])
        if not seeder.subacked.wait(wait_s):
            raise SeedError("the broker did not confirm the subscription")
        return True
    finally:
        seeder.client.disconnect()  # the CONNECT's session expiry stands
        seeder.client.loop_stop()


def user_topics(user: PartitionUser) -> list[str]:
    """What the partition's member subscribes to (bus/partitions.py), its Frigate included."""
    return [*partition_topics(user.municipality), *(f"{p}/events" for p in user.frigate_prefixes)]


def seed_partitions(
    db: Engine,
    url: str,
    secret: str,
    users: Sequence[PartitionUser],
    *,
    retry_s: float = 0.0,
    wait_s: float = 5.0,
) -> SeedReport:
    """Make the session of every partition no member ever claimed. ``retry_s``: keep retrying
    a refused login that long (a reload of the broker that learns the new users is under
    way)."""
    report = SeedReport()
    ensure(db, (u.municipality for u in users))
    deadline = time.monotonic() + retry_s
    for user in sorted(users, key=lambda u: u.municipality):
        muni = user.municipality
        login = with_credentials(url, user.username, partition_password(secret, user.username))
        while True:
            try:
                with unclaimed(db, muni) as free:  # locked: no member claims it meanwhile
                    made = free and seed_session(login, user.username, user_topics(user), wait_s)
            except SeedError as err:
                if str(err).startswith(REFUSED) and time.monotonic() < deadline:
                    time.sleep(0.2)  # the broker has not learnt the user yet
                    continue
                report.refused[muni] = str(err)
                log.warning("partition %s: no session made: %s", muni, err)
            else:
                if not free:
                    report.held.append(muni)
                else:
                    (report.created if made else report.present).append(muni)
            break
    return report
