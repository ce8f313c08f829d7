"""The credential scenarios, run on every broker by test_mqtt_acl_mosquitto.py,
test_mqtt_acl_embedded.py and test_broker_acl_supervised.py: the same rules must hold on each
(docs/MQTT.md, "Authentication and ACLs"). :class:`Scenarios` holds them as tests for a broker's
module to subclass; :func:`own_broker` starts a control center with a broker of its own. Every
verdict comes from the database the real ingest wrote, or from the broker's own CONNACK/SUBACK;
a forbidden publish is followed by an allowed one from the same client, so "not stored" is
judged after the broker has demonstrably handled it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from cityops.app import ControlCenter
from cityops.config.loader import load_config
from cityops.data import DEMO_CONFIG
from cityops.domain.devices import DeviceKind
from cityops.domain.observations import Reading
from cityops.mqtt_url import with_credentials
from cityops.services import devices
from cityops.settings import Settings
from cityops.sim.publisher import MqttPublisher
from cityops.store import tables as t
from cityops.video.worker.link import WorkerLink
from cityops.video.worker.publish import Message
from tests.e2e.acl_support import Device, issue, reading, scope, start, stored, two_towns, wait_for
from tests.harness import free_port
from tests.ingest.test_frigate import frigate_object, message

TT, KZ = "testtown", "kazanlak"
KZ_SENSOR = load_config(DEMO_CONFIG).sensors[0].id
KZ_CAMERA = load_config(DEMO_CONFIG).cameras[0].id


def standard_credentials(db: Engine) -> dict[str, tuple[str, str]]:
    """The devices every scenario uses: role -> (username, secret)."""
    made = {
        "river1": scope("river1", DeviceKind.GATEWAY, TT, "river-1"),
        "tt_gateway": scope("gw", DeviceKind.GATEWAY, TT),
        "kz_gateway": scope("gw", DeviceKind.GATEWAY, KZ),
        "kz_worker": scope("worker", DeviceKind.WORKER, KZ),
        "kz_worker2": scope("worker2", DeviceKind.WORKER, KZ),
        "kz_sim": scope("sim", DeviceKind.INTEGRATION, KZ),
        "tt_frigate": scope("nvr", DeviceKind.FRIGATE, TT, prefix="frigate"),
        "doomed": scope("doomed", DeviceKind.GATEWAY, TT, "river-2"),
    }
    return {role: issue(db, s) for role, s in made.items()}


@dataclass
class World:
    center: ControlCenter
    host: str
    port: int
    creds: dict[str, tuple[str, str]]
    apply: Callable[[], None]
    """Make the broker act on the database's credentials now (Mosquitto: `cityops mqtt sync`)."""
    subscribe_refused: bool
    """The broker refuses a forbidden subscription in its SUBACK (not only its messages)."""

    @property
    def db(self) -> Engine:
        return self.center.db

    def device(self, role: str | None, **kw: Any) -> Device:
        user, secret = self.creds[role] if role is not None else (None, None)
        return Device(self.host, self.port, user, kw.pop("password", secret), **kw)

    def url(self, role: str) -> str:
        return with_credentials(f"mqtt://{self.host}:{self.port}", *self.creds[role])

    def connected(self, role: str, **kw: Any) -> Device:
        dev = self.device(role, **kw)
        assert dev.connect(), f"{role} refused: {dev.connack}"
        return dev


def publishes_only_its_own_topics(w: World) -> None:
    river1 = w.connected("river1")
    kz = w.connected("kz_gateway")
    before = {s: stored(w.db, TT, s) for s in ("river-1", "river-2")}
    kz_before = stored(w.db, KZ, KZ_SENSOR)
    try:
        river1.publish(f"cityops/{TT}/sensors/river-1/readings", reading(1.0, 30))
        river1.publish(f"cityops/{TT}/sensors/river-2/readings", reading(1.0, 29))  # not its own
        batch = json.dumps({"readings": [{"sensor": "river-1", "value": 1.5, "ts": time.time()}]})
        river1.publish(f"cityops/{TT}/readings", batch)  # the batch names any sensor: no
        river1.publish(f"cityops/{KZ}/sensors/{KZ_SENSOR}/readings", reading(1.0, 28))
        kz.publish(f"cityops/{TT}/sensors/river-2/readings", reading(2.0, 27))  # other town
        kz.publish(f"cityops/{KZ}/sensors/{KZ_SENSOR}/readings", reading(1.0, 26))  # its own
        river1.publish(f"cityops/{TT}/sensors/river-1/readings", reading(1.1, 25))
        wait_for(lambda: stored(w.db, TT, "river-1") == before["river-1"] + 2, 15, "river-1")
        wait_for(lambda: stored(w.db, KZ, KZ_SENSOR) == kz_before + 1, 15, "kazanlak's own")
        time.sleep(0.3)
        assert stored(w.db, TT, "river-1") == before["river-1"] + 2  # the batch was dropped
        assert stored(w.db, TT, "river-2") == before["river-2"]
        assert stored(w.db, KZ, KZ_SENSOR) == kz_before + 1
    finally:
        river1.stop()
        kz.stop()


def reads_nothing_of_another_municipality(w: World) -> None:
    spies = [w.connected("kz_gateway"), w.connected("kz_worker")]
    river1 = w.connected("river1")
    try:
        for spy in spies:
            for topic in ("#", f"cityops/{TT}/#", "cityops/+/sensors/+/readings"):
                codes = spy.subscribe(topic)
                if w.subscribe_refused:
                    assert codes == [0x80], (spy.username, topic, codes)
        worker = spies[1]
        assert worker.subscribe("cityops/_workers/+") == [1]  # what a worker may read
        own = f"cityops/_workers/{worker.username}"
        worker.client.publish(own, b'{"id": "w"}', qos=1, retain=True).wait_for_publish(10)
        before = stored(w.db, TT, "river-1")
        river1.publish(f"cityops/{TT}/sensors/river-1/readings", reading(3.0, 20))
        wait_for(lambda: stored(w.db, TT, "river-1") == before + 1, 15, "the reading stored")
        wait_for(lambda: any(t == own for t, _ in worker.received), 10, "its own presence")
        time.sleep(0.5)
        for spy in spies:
            leaked = [t for t, _ in spy.received if t.startswith(f"cityops/{TT}/")]
            assert leaked == [], (spy.username, leaked)
        worker.client.publish(own, b"", qos=1, retain=True).wait_for_publish(10)
    finally:
        for dev in (*spies, river1):
            dev.stop()


def anonymous_and_wrong_secrets_are_refused(w: World) -> None:
    assert not w.device(None).connect()
    assert not w.device("river1", password="not-the-secret").connect()
    user = w.creds["river1"][0]
    assert not Device(w.host, w.port, user + "x", w.creds["river1"][1]).connect()
    assert w.center.mqtt is not None
    ingest = w.center.mqtt.client_id  # the ingest's username, too
    for guess in ("", "пароль-🔑", "x" * 300):
        assert not Device(w.host, w.port, ingest, guess).connect()
    assert w.center.mqtt.connected.is_set()


def a_revoked_credential_is_refused(w: World) -> None:
    """The revoked client's live session is cut (Mosquitto at the reload, the embedded broker
    at its next publish), what it publishes then is not stored, and it cannot log in again."""
    doomed = w.connected("doomed")
    before = stored(w.db, TT, "river-2")
    doomed.publish(f"cityops/{TT}/sensors/river-2/readings", reading(1.0, 15))
    wait_for(lambda: stored(w.db, TT, "river-2") == before + 1, 15, "stored before revocation")
    with w.db.begin() as conn:
        devices.revoke(conn, w.creds["doomed"][0], actor="test", reason="stolen")
    w.apply()
    doomed.client.publish(f"cityops/{TT}/sensors/river-2/readings", reading(1.0, 14), qos=1)
    wait_for(lambda: doomed.disconnects > 0, 10, "the revoked session cut off")
    doomed.stop()
    time.sleep(0.5)
    assert not w.device("doomed").connect()
    assert stored(w.db, TT, "river-2") == before + 1


def the_ingest_session_cannot_be_taken_over(w: World, count: int = 300) -> None:
    """While a gateway publishes ``count`` readings, attackers connect again and again with the
    ingest's client id (a valid credential of another town, a wrong secret for the ingest's own
    username, no credential): the ingest is never disconnected and stores every reading."""
    mqtt_ingest = w.center.mqtt
    assert mqtt_ingest is not None
    ingest_id = mqtt_ingest.client_id
    kicked: list[object] = []
    original = mqtt_ingest.client.on_disconnect

    def count_disconnect(*args: Any) -> None:
        kicked.append(args)
        if original is not None:
            original(*args)

    mqtt_ingest.client.on_disconnect = count_disconnect
    before = stored(w.db, TT, "pm10-1")
    gateway = w.connected("tt_gateway")
    done = threading.Event()
    got_in: list[str] = []

    def attack() -> None:
        while not done.is_set():
            intruder = w.device("kz_gateway", client_id=ingest_id, clean=True)
            if intruder.connect():
                intruder.publish(f"cityops/{KZ}/sensors/{KZ_SENSOR}/readings", reading(1, 5))
                intruder.stop()
            for fake in (
                Device(w.host, w.port, ingest_id, "guessed", client_id=ingest_id),
                Device(w.host, w.port, None, None, client_id=ingest_id),
            ):
                if fake.connect():
                    got_in.append(str(fake.username))
                    fake.stop()

    attacker = threading.Thread(target=attack, daemon=True)
    attacker.start()
    try:
        for i in range(count):
            gateway.client.publish(
                f"cityops/{TT}/sensors/pm10-1/readings", reading(10.0 + i % 7, 600 - i), qos=1
            )
        wait_for(lambda: stored(w.db, TT, "pm10-1") == before + count, 60, "every reading")
    finally:
        done.set()
        attacker.join(30)
        gateway.stop()
        mqtt_ingest.client.on_disconnect = original
    assert got_in == []
    assert kicked == []
    assert mqtt_ingest.connected.is_set()


def event_stored(db: Engine, municipality: str, event_id: str) -> bool:
    with db.connect() as conn:
        query = select(t.events.c.event_id).where(
            t.events.c.municipality == municipality, t.events.c.event_id == event_id
        )
        return conn.execute(query).first() is not None


def workers_and_simulators_use_their_credentials(w: World) -> None:
    """Two video workers of Kazanlak (each its own credential, its id = its username) see each
    other's presence and publish camera events; the simulator publishes with an integration
    credential; both are stored."""
    one, two = (w.creds[r][0] for r in ("kz_worker", "kz_worker2"))
    links = [WorkerLink(w.url("kz_worker"), one), WorkerLink(w.url("kz_worker2"), two)]
    for link in links:
        link.start()
    try:
        for link in links:
            assert link.connected.wait(10), link.worker_id
            link.presence([f"{KZ}/{KZ_CAMERA}"], {})
        wait_for(lambda: links[0].peers() == links[1].peers() == {one, two}, 10, "presence")
        event = {"id": f"acl-{one}", "kind": "person", "ts": time.time()}
        topic = f"cityops/{KZ}/cameras/{KZ_CAMERA}/events"
        links[0].publish(Message(topic, json.dumps(event).encode()))
        wait_for(lambda: event_stored(w.db, KZ, f"acl-{one}"), 15, "the worker's event")
    finally:
        for link in links:
            link.stop()
    before = stored(w.db, KZ, KZ_SENSOR)
    now = datetime.now(UTC)
    with MqttPublisher(w.url("kz_sim")) as sim:
        sim.publish_readings(KZ, [Reading(KZ, KZ_SENSOR, now - timedelta(seconds=3), 1.0)])
    wait_for(lambda: stored(w.db, KZ, KZ_SENSOR) == before + 1, 15, "the simulator's reading")


def a_frigate_publishes_under_its_prefix_only(w: World) -> None:
    """The town's Frigate publishes its events (stored as camera events, the ingest reading
    ``frigate/events`` by its own grant); another town's gateway cannot publish there."""
    start = (datetime.now(UTC) - timedelta(seconds=3)).timestamp()
    nvr, kz = w.connected("tt_frigate"), w.connected("kz_gateway")
    try:
        forged = message("new", frigate_object(id=f"{start:.6f}-forged", start_time=start))
        kz.publish("frigate/events", json.dumps(forged))
        own = message("new", frigate_object(id=f"{start:.6f}-acl", start_time=start))
        nvr.publish("frigate/events", json.dumps(own))
        nvr.publish("frigate/available", "online")  # its other topics are its own too
        wait_for(lambda: event_stored(w.db, TT, f"frigate:{start:.6f}-acl"), 15, "the event")
        time.sleep(0.3)
        assert not event_stored(w.db, TT, f"frigate:{start:.6f}-forged")
    finally:
        nvr.stop()
        kz.stop()


def own_broker(data: Path, broker: str, *, anonymous: bool = False) -> ControlCenter:
    """A started control center for the two towns (stored under ``data``) with its own
    ``broker`` (``amqtt`` or ``mosquitto``) on a free port."""
    settings = Settings(
        data_dir=data,
        database_url=two_towns(data),
        mqtt_port=free_port(),
        broker=broker,
        mqtt_anonymous=anonymous,
        camera_probe_s=0,
        video_worker=False,
        log_level="WARNING",
    )
    return start(settings)


class Scenarios:
    """Every scenario as a test; a broker's module subclasses this as ``Test<Broker>`` and
    gives the ``world`` fixture."""

    def test_a_device_publishes_only_its_own_topics(self, world: World) -> None:
        publishes_only_its_own_topics(world)

    def test_a_device_reads_nothing_of_another_municipality(self, world: World) -> None:
        reads_nothing_of_another_municipality(world)

    def test_anonymous_and_wrong_secrets_are_refused(self, world: World) -> None:
        anonymous_and_wrong_secrets_are_refused(world)

    def test_a_revoked_credential_is_refused(self, world: World) -> None:
        a_revoked_credential_is_refused(world)

    def test_the_ingest_session_cannot_be_taken_over(self, world: World) -> None:
        the_ingest_session_cannot_be_taken_over(world)

    def test_workers_and_simulators_use_their_credentials(self, world: World) -> None:
        workers_and_simulators_use_their_credentials(world)

    def test_a_frigate_publishes_under_its_prefix_only(self, world: World) -> None:
        a_frigate_publishes_under_its_prefix_only(world)
