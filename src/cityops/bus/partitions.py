"""One persistent MQTT session per partition (municipality) of multi-process ingest.

Whoever holds a partition's lease (services/partitions.py) connects with the partition's
client id, ``<prefix>-<municipality>``, subscribed to that municipality's topics only: the
broker hands the session over with what it queued and what the previous holder left
unacknowledged, and kicks a previous holder still connected (MQTT 5 "session taken over").
docs/SCALING.md says why this and not a ``$share/`` group.

``PartitionSessions`` is what taking, giving up and losing a partition means here, and the
pipeline's fence. A batch the fence refuses is left unacknowledged; since a broker resends an
unacknowledged message only when the session reconnects, every partition of a refused batch
is *recycled*: its session stops handing messages over, what is already queued is refused
too, then the session reconnects (or is dropped when the lease is gone) and the broker
redelivers the lot in order.

With an ingest secret each session logs in as its partition's own broker user (username = client
id, password derived from the secret: services/partition_users.py), so that a broker with
``use_username_as_clientid`` keeps the partitions apart; without one, with the URL as given."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

import paho.mqtt.client as mqtt
from sqlalchemy import Connection

from cityops.bus.mqtt import SUBSCRIPTIONS, MqttIngest, connect
from cityops.ingest.cap_mqtt import CapMqtt
from cityops.ingest.pipeline import FenceError, IngestPipeline
from cityops.mqtt_url import with_credentials
from cityops.services.partition_users import client_id, partition_password
from cityops.services.partitions import PartitionManager
from cityops.services.runtime import MunicipalityRuntime

log = logging.getLogger(__name__)

SESSION_TAKEN_OVER = 142
"""MQTT 5 DISCONNECT reason: another connection took this client id's session."""
REFUSED = "partition login refused"


def refusal(reason: object) -> str:
    """What a refused partition login is called in the logs and in /health."""
    return f"{REFUSED}: {str(reason).lower()}"


def partition_topics(municipality: str) -> tuple[str, ...]:
    """The ingest subscriptions narrowed to one municipality."""
    return tuple(t.replace("cityops/+/", f"cityops/{municipality}/", 1) for t in SUBSCRIPTIONS)


class PartitionSession(MqttIngest):
    """One municipality's persistent session (MQTT 5, manual ack). It never publishes: the
    server publishes incident changes, which it hears through the live bridge."""

    def __init__(
        self,
        url: str,
        pipeline: IngestPipeline,
        municipality: str,
        client_id: str,
        on_taken: Callable[[str], None] = lambda _m: None,
    ) -> None:
        super().__init__(url, pipeline, client_id, protocol="5")
        self.on_taken = on_taken
        """Told when another connection took the session (checked against the lease)."""
        self.stopping = False
        self._unsubscribe()  # no incident publishing from here
        self.municipality = municipality
        self.subscriptions = partition_topics(municipality)
        self.paused = False
        """Set: received messages are left unacknowledged (the broker redelivers them)."""
        self.taken_over = threading.Event()
        self.answered = threading.Event()
        """Set by the first CONNACK, accepted or not."""
        self.refused: str | None = None
        """Why the broker refused the last login (None once a login succeeds): /health
        shows it through the partition's row (services/partitions.py)."""

    def start(self, wait_s: float = 15.0) -> None:
        """Connect; return once the broker answered (a refusal too: paho retries it in the
        background, and the next partition need not wait) or after ``wait_s``."""
        connect(self.client, self.address, persistent=True)
        self.client.loop_start()
        if not self.answered.wait(wait_s):
            log.warning("partition %s: the broker has not answered yet", self.municipality)

    def frigate_wanted(self) -> frozenset[str]:
        """Only this municipality's Frigate events topic."""
        rt = self.pipeline.runtimes.get(self.municipality)
        frigate = rt.config.frigate if rt is not None else None
        return frozenset({f"{frigate.topic_prefix}/events"} if frigate else ())

    def _on_connect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        if getattr(rc, "is_failure", False):
            self.refused = refusal(rc)
            self.answered.set()
            log.error("MQTT connection of partition %s refused: %s", self.municipality, rc)
            return
        self.refused = None
        self.answered.set()
        self.frigate_topics = self.frigate_wanted()
        topics = [*self.subscriptions, *sorted(self.frigate_topics)]
        client.subscribe([(topic, 1) for topic in topics])
        self.connected.set()

    def _on_disconnect(
        self, client: mqtt.Client, _u: object, _f: object, rc: object, _p: object
    ) -> None:
        self.connected.clear()
        if getattr(rc, "value", None) == SESSION_TAKEN_OVER:
            self.paused = True
            self.taken_over.set()
            client.disconnect()  # paho stops reconnecting: never fight the new holder
            log.warning("partition %s: session taken over by another process", self.municipality)
            self.on_taken(self.municipality)
        elif not self.stopping:
            log.warning("partition %s disconnected (%s); paho reconnects", self.municipality, rc)

    def stop(self) -> None:
        self.stopping = True
        super().stop()

    def _on_message(self, client: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        if self.paused:
            return  # unacknowledged: redelivered to whoever connects this session next
        super()._on_message(client, _u, msg)


class MemberPipeline(IngestPipeline):
    """An ingest member's pipeline: it tells the fence when it is judging a tick, which hands
    no messages over, so a refused tick strands nothing and recycles no session."""

    ticking = False

    def tick(self) -> None:
        self.ticking = True
        try:
            super().tick()
        finally:
            self.ticking = False


class PartitionSessions:
    """The partitions this process consumes: ``Partitions`` for the manager, and the fence."""

    def __init__(
        self,
        url: str,
        pipeline: IngestPipeline,
        runtime_for: Callable[[str], MunicipalityRuntime | None],
        *,
        client_prefix: str = "cityops-ingest",
        cap: CapMqtt | None = None,
        connect_wait_s: float = 10.0,
        secret: str | None = None,
    ) -> None:
        self.url, self.pipeline, self.runtime_for = url, pipeline, runtime_for
        self.secret = secret
        """The ingest secret: each session logs in as its partition's user (None: the URL's)."""
        self.client_prefix, self.cap, self.connect_wait_s = client_prefix, cap, connect_wait_s
        self.manager: PartitionManager | None = None
        self.sessions: dict[str, PartitionSession] = {}
        self._lock = threading.RLock()
        self._recycle_lock = threading.Lock()
        self._recycling: set[str] = set()
        self._recycler: threading.Thread | None = None
        self.refused = 0
        """Batches the fence refused."""

    def client_id(self, municipality: str) -> str:
        return client_id(self.client_prefix, municipality)

    def login_errors(self) -> dict[str, str]:
        """Partition -> why the broker refused its session's last login (the manager writes
        them to the partitions' rows for /health)."""
        sessions = list(self.sessions.values())  # one C-level copy: no lock a drain holds
        return {s.municipality: s.refused for s in sessions if s.refused is not None}

    def url_of(self, municipality: str) -> str:
        """The broker URL a partition's session connects with (its own credential)."""
        if self.secret is None:
            return self.url
        name = self.client_id(municipality)
        return with_credentials(self.url, name, partition_password(self.secret, name))

    # -- Partitions ----------------------------------------------------------------------------
    def acquire(self, municipality: str) -> None:
        with self._lock:
            runtime = self.runtime_for(municipality)
            if runtime is None:
                raise LookupError(f"no configuration for {municipality!r}")
            wanted = dict(self.pipeline.runtimes) | {municipality: runtime}
            if not self.pipeline.reload(wanted):  # its rule state, as committed, first
                raise TimeoutError("the ingest worker did not take the new partition")
            self._connect(municipality)

    def release(self, municipality: str) -> None:
        """Stop handing its messages over, store and acknowledge what was handed over (the
        pipeline drains its queue before the reload runs), then disconnect."""
        with self._lock:
            session = self.sessions.pop(municipality, None)
            if session is not None:
                session.paused = True
            rest = {m: rt for m, rt in self.pipeline.runtimes.items() if m != municipality}
            if not self.pipeline.reload(rest, timeout=120.0):
                log.error("partition %s: the ingest worker did not drain in time", municipality)
            if session is not None:
                session.stop()

    drop = release  # refused by the fence meanwhile, what was queued stays unacknowledged

    def apply_config(self, runtimes: dict[str, MunicipalityRuntime]) -> bool:
        """A newly imported configuration, for the partitions held."""
        with self._lock:
            owned = {m: rt for m, rt in runtimes.items() if m in self.pipeline.runtimes}
            if not self.pipeline.reload(owned):
                return False
            for session in self.sessions.values():
                session.update_subscriptions()
            return True

    def stop(self) -> None:
        with self._lock:
            for muni in sorted(self.sessions):
                self.release(muni)

    def _connect(self, municipality: str) -> None:
        session = PartitionSession(
            self.url_of(municipality),
            self.pipeline,
            municipality,
            self.client_id(municipality),
            lambda m: self._recycle([m]),  # reconnected only if the lease is still ours
        )
        session.cap = self.cap
        self.sessions[municipality] = session
        session.start(wait_s=self.connect_wait_s)

    # -- the fence ---------------------------------------------------------------------------
    def fence(self, conn: Connection, municipalities: frozenset[str]) -> None:
        """The pipeline's fence (in the batch's or the tick's transaction)."""
        assert self.manager is not None, "the fence needs the partition manager"
        if getattr(self.pipeline, "ticking", False):  # no messages: only ownership matters
            if bad := self.manager.violations(conn, municipalities):
                raise FenceError(f"not owned: {', '.join(bad)}")
            return
        with self._recycle_lock:
            recycling = municipalities & self._recycling
        bad = [] if recycling else self.manager.violations(conn, municipalities)
        if not recycling and not bad:
            return
        self.refused += 1
        self._recycle(municipalities)  # their messages in this batch are stranded otherwise
        why = f"not owned: {', '.join(bad)}" if bad else f"recycling: {', '.join(recycling)}"
        raise FenceError(why)

    def _recycle(self, municipalities: Iterable[str]) -> None:
        """From the ingest thread (a refused batch) or paho's (a session taken over): stop
        handing those partitions' messages over, and reconnect them from another thread."""
        with self._recycle_lock:  # never held while waiting for the ingest thread
            for muni in municipalities:
                session = self.sessions.get(muni)
                if session is not None:
                    session.paused = True
                self._recycling.add(muni)
            if self._recycler is None:
                self._recycler = threading.Thread(
                    target=self._reconnect, name="cityops-recycle", daemon=True
                )
                self._recycler.start()

    def _reconnect(self) -> None:
        """Until nothing is left to recycle: let the pipeline refuse what the paused sessions
        had handed over, then reconnect each session whose lease the database still gives us
        (the broker sends everything unacknowledged again, in order)."""
        while True:
            with self._recycle_lock:
                todo = sorted(self._recycling)  # all paused before the drain below is queued
                if not todo:
                    self._recycler = None
                    return
            self.pipeline.between_batches(lambda: None, timeout=120.0)
            with self._lock:
                assert self.manager is not None
                stopped = []
                for muni in todo:
                    session = self.sessions.pop(muni, None)
                    if session is not None:
                        session.stop()
                        stopped.append(muni)
                with self._recycle_lock:
                    self._recycling.difference_update(todo)
                for muni in stopped:
                    if self.manager.owns(muni):  # else the manager drops it on its next round
                        self._connect(muni)
                        log.info("partition %s reconnected (recycled)", muni)
