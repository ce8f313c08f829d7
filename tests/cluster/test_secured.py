"""Multi-process ingest on a Mosquitto secured as in production (docs/SCALING.md "Partition
credentials"): no anonymous clients, ``use_username_as_clientid true``, the password and ACL
files written by the real `cityops mqtt sync` with the ingest secret. Each partition session
logs in as its municipality's own user (username = client id, password derived from the
secret), so the sessions of one member no longer share a client id; a partition user reads
only its municipality; a device credential cannot take a partition's session."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.services.partition_users import partition_password
from tests.cluster.conftest import TOWNS
from tests.cluster.secured import ROTATED, SECRET, Rig, sync
from tests.cluster.support import (
    balanced,
    check_exactly_once,
    owners,
    stored_readings,
    wait_for,
    wait_until_stored,
)
from tests.e2e.acl_support import Device

pytestmark = pytest.mark.timeout(180)


def test_members_on_a_secured_broker_take_partitions_and_hand_over_exactly_once(
    rig: Rig,
) -> None:
    out = sync(rig.broker, rig.db_url, rig.prefix)
    assert f"{len(TOWNS)} ingest partition users" in out, out
    members = rig.start_members(3)
    names = [m.name for m in members]
    wait_for(lambda: balanced(rig.db, names, TOWNS), 45, "three members holding two towns each")
    rig.warm_up()
    publisher = rig.publish(episodes=4)
    time.sleep(3.0)  # mid-stream
    victim = members[0]
    lost = {m for m, o in owners(rig.db).items() if o == victim.name}
    victim.kill()
    survivors = [m.name for m in members[1:]]
    wait_for(lambda: balanced(rig.db, survivors, TOWNS), 30, "the survivors to take over")
    wait_until_stored(rig.db, publisher, 90)
    assert lost
    assert {owners(rig.db)[m] for m in lost} <= set(survivors)
    check_exactly_once(rig.db, publisher)
    for m in members[1:]:
        log = m.log_tail()
        assert "taken over by another process" not in log, log
        assert "MQTT connection of partition" not in log, log  # never refused


def test_a_partition_user_reads_its_own_municipality_only(rig: Rig) -> None:
    broker, gateways = rig.broker, rig.gateways
    sync(broker, rig.db_url, rig.prefix)
    own = f"{rig.prefix}-town1"
    reader = Device(broker.host, broker.port, own, partition_password(SECRET, own), v5=True)
    assert reader.connect()
    try:
        reader.subscribe("cityops/town2/sensors/+/readings")  # Mosquitto grants, sends nothing
        reader.subscribe("cityops/+/readings")
        reader.subscribe("cityops/town1/sensors/+/readings")
        other = Device(broker.host, broker.port, *gateways["town2"])
        mine = Device(broker.host, broker.port, *gateways["town1"])
        assert other.connect()
        assert mine.connect()
        other.publish("cityops/town2/sensors/river-1/readings", '{"value": 1.0}')
        other.publish("cityops/town2/readings", "[]")
        mine.publish("cityops/town1/sensors/river-1/readings", '{"value": 2.0}')  # the barrier
        wait_for(lambda: bool(reader.received), 10, "town1's reading")
        time.sleep(0.3)
        assert [topic for topic, _ in reader.received] == ["cityops/town1/sensors/river-1/readings"]
        other.stop()
        mine.stop()
    finally:
        reader.stop()
    # the same password is town1's only; a wrong one and no secret at all are refused
    town2 = f"{rig.prefix}-town2"
    assert not Device(broker.host, broker.port, town2, partition_password(SECRET, own)).connect()
    rotated = partition_password("another-secret-" + "y" * 30, own)
    assert not Device(broker.host, broker.port, own, rotated).connect()


def test_a_device_credential_cannot_take_a_partition_session(rig: Rig) -> None:
    broker = rig.broker
    sync(broker, rig.db_url, rig.prefix)
    (member,) = rig.start_members(1)
    session = f"{rig.prefix}-town1"
    rig.holding_all()
    rig.warm_up()  # one reading per town
    # a gateway asking for the partition's client id gets its own username as its id
    user, secret = rig.gateways["town1"]
    thief = Device(broker.host, broker.port, user, secret, client_id=session, v5=True)
    assert thief.connect()
    # nor can it log in as the partition user with its own secret
    assert not Device(broker.host, broker.port, session, secret, client_id=session).connect()
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    for minute in range(20):
        ts = (base + timedelta(minutes=minute)).isoformat()
        thief.publish("cityops/town1/sensors/river-1/readings", f'{{"value": 1.0, "ts": "{ts}"}}')
    thief.stop()
    wait_for(
        lambda: sum(1 for m, *_ in stored_readings(rig.db) if m == "town1") == 1 + 20,
        30,
        "the gateway's readings stored by the undisturbed partition session",
    )
    assert "taken over by another process" not in member.log_tail(), member.log_tail()
    assert member.stop() == 0, member.log_tail()


def test_sync_without_the_secret_writes_no_partition_user(rig: Rig) -> None:
    out = sync(rig.broker, rig.db_url, rig.prefix, secret=None)
    assert "partition users" not in out
    assert rig.prefix not in rig.broker.password_path.read_text()
    short = CliRunner().invoke(
        app,
        ["mqtt", "sync", "--password-file", os.devnull, "--acl-file", os.devnull],
        env={"CITYOPS_DATABASE_URL": rig.db_url, "CITYOPS_INGEST_SECRET": "short"},
    )
    assert short.exit_code == 2, short.output
    assert "at least 32" in short.output


def test_a_secret_rotated_in_a_quiet_moment_with_the_members_stopped(rig: Rig) -> None:
    """The procedure of docs/SCALING.md "Rotating the secret": Mosquitto 2.0.11 drops what is
    queued for a session whose password a reload changes, so the partitions' queues must be
    empty: publishing paused, everything stored, the members stopped, then the sync."""
    broker = rig.broker
    sync(broker, rig.db_url, rig.prefix)
    (old,) = rig.start_members(1, group="old")
    rig.holding_all()
    rig.warm_up()
    publisher = rig.publish(episodes=1)
    wait_until_stored(rig.db, publisher, 60)
    assert old.stop() == 0, old.log_tail()
    files = (broker.password_path.read_text(), broker.acl_path.read_text())
    refused = sync(broker, rig.db_url, rig.prefix, ROTATED, rotate=False, code=2)
    assert "--rotate-ingest-secret" in refused
    assert (broker.password_path.read_text(), broker.acl_path.read_text()) == files
    sync(broker, rig.db_url, rig.prefix, ROTATED)  # the members are stopped: allowed
    (new,) = rig.start_members(1, ROTATED, group="new")
    rig.holding_all()
    before = len(stored_readings(rig.db))
    gateway = Device(broker.host, broker.port, *rig.gateways["town2"])
    assert gateway.connect()
    for minute in range(10):
        ts = (publisher.base + timedelta(hours=1, minutes=minute)).isoformat()
        gateway.publish("cityops/town2/sensors/river-1/readings", f'{{"value": 1, "ts": "{ts}"}}')
    gateway.stop()
    wait_for(lambda: len(stored_readings(rig.db)) == before + 10, 30, "readings after rotation")
    check_exactly_once(rig.db, publisher)
    assert "MQTT connection of partition" not in new.log_tail(), new.log_tail()
