"""Multi-process ingest on a Mosquitto secured as in production (docs/SCALING.md "Partition
credentials"): no anonymous clients, ``use_username_as_clientid true``, the password and ACL
files written by the real `cityops mqtt sync` with the ingest secret. Each partition session
logs in as its municipality's own user (username = client id, password derived from the
secret), so the sessions of one member no longer share a client id; a partition user reads
only its municipality; a device credential cannot take a partition's session."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services.partition_users import partition_password
from tests.cluster.conftest import TOWNS, _unavailable
from tests.cluster.support import (
    Member,
    Publisher,
    balanced,
    check_exactly_once,
    owners,
    stored_readings,
    wait_for,
    wait_until_stored,
)
from tests.e2e.acl_support import Device, issue
from tests.harness import MosquittoServer, mosquitto_unavailable_reason

pytestmark = pytest.mark.timeout(180)

SECURED_PORT = 21111
SECRET = "partition-test-secret-" + "x" * 20  # 42 characters
ROTATED = "partition-test-rotated-" + "y" * 20


@pytest.fixture(scope="module")
def secured() -> Iterator[MosquittoServer]:
    """Secured as docs/MQTT.md says (a finite queue limit: see its "Delivery guarantee")."""
    if reason := mosquitto_unavailable_reason():
        _unavailable(reason)
    with MosquittoServer(SECURED_PORT, secured=True, max_queued_messages=10_000_000) as server:
        yield server


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:8]}"  # partition users of their own on the module's broker


@pytest.fixture
def gateways(db: Engine) -> dict[str, tuple[str, str]]:
    """A gateway credential per town: town -> (username, secret)."""
    return {town: issue(db, DeviceScope("gw", DeviceKind.GATEWAY, town)) for town in TOWNS}


def sync(
    broker: MosquittoServer,
    db_url: str,
    prefix: str,
    secret: str | None = SECRET,
    *,
    rotate: bool = True,
    code: int = 0,
) -> str:
    """The real `cityops mqtt sync` (SIGHUP included) with the ingest secret; its output.
    ``rotate`` by default: each test starts with no member running and users of its own
    prefix, dropping the last test's (which the sync refuses without the flag)."""
    env: dict[str, str | None] = {
        "CITYOPS_DATABASE_URL": db_url,
        "CITYOPS_INGEST_CLIENT_PREFIX": prefix,
        "CITYOPS_INGEST_SECRET": secret,  # None: unset
        "CITYOPS_INGEST_SECRET_FILE": None,
    }
    args = ["mqtt", "sync", "--password-file", str(broker.password_path)]
    args += ["--acl-file", str(broker.acl_path), "--pid-file", str(broker.pid_path)]
    args += ["--rotate-ingest-secret"] if rotate else []
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    time.sleep(0.5)  # SIGHUP is asynchronous: let Mosquitto re-read both files
    return result.output


def members_on(
    broker: MosquittoServer,
    db_url: str,
    prefix: str,
    tmp_path: Path,
    n: int,
    secret: str = SECRET,
) -> list[Member]:
    env = {"CITYOPS_INGEST_SECRET": secret}
    return [Member(f"m{i}", db_url, broker.url, tmp_path / f"m{i}", prefix, env) for i in range(n)]


def warm_up(db: Engine, broker: MosquittoServer, gateways: dict[str, tuple[str, str]]) -> None:
    """Every partition's session live: a low reading per town, half an hour before the
    publisher's, sent again every second until stored (a client id's first subscription is
    when the broker starts queueing for it; a lease claimed is not yet a session)."""
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=6, minutes=30)
    payload = f'{{"value": 1.0, "ts": "{base.isoformat()}"}}'
    devices = [Device(broker.host, broker.port, *gateways[town]) for town in TOWNS]
    for device in devices:
        assert device.connect()
    try:
        deadline = time.monotonic() + 60
        while missing := set(TOWNS) - {m for m, _s, _t in stored_readings(db)}:
            assert time.monotonic() < deadline, f"no session live for {sorted(missing)}"
            for town, device in zip(TOWNS, devices, strict=True):
                if town in missing:
                    device.publish(f"cityops/{town}/sensors/river-2/readings", payload)
            time.sleep(1.0)
    finally:
        for device in devices:
            device.stop()


def test_members_on_a_secured_broker_take_partitions_and_hand_over_exactly_once(
    db: Engine,
    cluster_db: str,
    secured: MosquittoServer,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    out = sync(secured, cluster_db, prefix)
    assert f"{len(TOWNS)} ingest partition users" in out, out
    members = members_on(secured, cluster_db, prefix, tmp_path, 3)
    publisher: Publisher | None = None
    try:
        for m in members:
            m.start()
        names = [m.name for m in members]
        wait_for(lambda: balanced(db, names, TOWNS), 45, "three members holding two towns each")
        warm_up(db, secured, gateways)
        publisher = Publisher(secured.port, TOWNS, episodes=4, rate=150, credentials=gateways)
        publisher.start()
        time.sleep(3.0)  # mid-stream
        victim = members[0]
        lost = {m for m, o in owners(db).items() if o == victim.name}
        victim.kill()
        survivors = [m.name for m in members[1:]]
        wait_for(lambda: balanced(db, survivors, TOWNS), 30, "the survivors to take over")
        wait_until_stored(db, publisher, 90)
        assert lost
        assert {owners(db)[m] for m in lost} <= set(survivors)
        check_exactly_once(db, publisher)
        for m in members[1:]:
            log = m.log_tail()
            assert "taken over by another process" not in log, log
            assert "MQTT connection of partition" not in log, log  # never refused
    finally:
        if publisher is not None:
            publisher.stop()
        for m in members:
            m.stop()


def test_a_partition_user_reads_its_own_municipality_only(
    cluster_db: str,
    secured: MosquittoServer,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
) -> None:
    sync(secured, cluster_db, prefix)
    own = f"{prefix}-town1"
    reader = Device(secured.host, secured.port, own, partition_password(SECRET, own), v5=True)
    assert reader.connect()
    try:
        reader.subscribe("cityops/town2/sensors/+/readings")  # Mosquitto grants, sends nothing
        reader.subscribe("cityops/+/readings")
        reader.subscribe("cityops/town1/sensors/+/readings")
        other = Device(secured.host, secured.port, *gateways["town2"])
        mine = Device(secured.host, secured.port, *gateways["town1"])
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
    wrong = Device(secured.host, secured.port, f"{prefix}-town2", partition_password(SECRET, own))
    assert not wrong.connect()
    rotated = partition_password("another-secret-" + "y" * 30, own)
    assert not Device(secured.host, secured.port, own, rotated).connect()


def test_a_device_credential_cannot_take_a_partition_session(
    db: Engine,
    cluster_db: str,
    secured: MosquittoServer,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    sync(secured, cluster_db, prefix)
    (member,) = members_on(secured, cluster_db, prefix, tmp_path, 1)
    session = f"{prefix}-town1"
    member.start()
    try:
        wait_for(lambda: set(owners(db).values()) == {"m0"}, 45, "the member holding all")
        warm_up(db, secured, gateways)  # one reading per town
        # a gateway asking for the partition's client id gets its own username as its id
        user, secret = gateways["town1"]
        thief = Device(secured.host, secured.port, user, secret, client_id=session, v5=True)
        assert thief.connect()
        # nor can it log in as the partition user with its own secret
        assert not Device(secured.host, secured.port, session, secret, client_id=session).connect()
        base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
        for minute in range(20):
            ts = (base + timedelta(minutes=minute)).isoformat()
            payload = f'{{"value": 1.0, "ts": "{ts}"}}'
            thief.publish("cityops/town1/sensors/river-1/readings", payload)
        thief.stop()
        wait_for(
            lambda: sum(1 for m, *_ in stored_readings(db) if m == "town1") == 1 + 20,
            30,
            "the gateway's readings stored by the undisturbed partition session",
        )
        assert "taken over by another process" not in member.log_tail(), member.log_tail()
    finally:
        assert member.stop() == 0, member.log_tail()


def test_sync_without_the_secret_writes_no_partition_user(
    cluster_db: str, secured: MosquittoServer, prefix: str
) -> None:
    out = sync(secured, cluster_db, prefix, secret=None)
    assert "partition users" not in out
    assert prefix not in secured.password_path.read_text()
    short = CliRunner().invoke(
        app,
        ["mqtt", "sync", "--password-file", os.devnull, "--acl-file", os.devnull],
        env={"CITYOPS_DATABASE_URL": cluster_db, "CITYOPS_INGEST_SECRET": "short"},
    )
    assert short.exit_code == 2, short.output
    assert "at least 32" in short.output


def test_a_secret_rotated_in_a_quiet_moment_with_the_members_stopped(
    db: Engine,
    cluster_db: str,
    secured: MosquittoServer,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> None:
    """The procedure of docs/SCALING.md "Rotating the secret": Mosquitto 2.0.11 drops what is
    queued for a session whose password a reload changes, so the partitions' queues must be
    empty: publishing paused, everything stored, the members stopped, then the sync."""
    sync(secured, cluster_db, prefix)
    (old,) = members_on(secured, cluster_db, prefix, tmp_path / "old", 1)
    old.start()
    publisher: Publisher | None = None
    new: Member | None = None
    try:
        wait_for(lambda: set(owners(db).values()) == {"m0"}, 45, "the member holding all")
        warm_up(db, secured, gateways)
        publisher = Publisher(secured.port, TOWNS, episodes=1, rate=150, credentials=gateways)
        publisher.start()
        wait_until_stored(db, publisher, 60)
        assert old.stop() == 0, old.log_tail()
        files = (secured.password_path.read_text(), secured.acl_path.read_text())
        refused = sync(secured, cluster_db, prefix, ROTATED, rotate=False, code=2)
        assert "--rotate-ingest-secret" in refused
        assert (secured.password_path.read_text(), secured.acl_path.read_text()) == files
        sync(secured, cluster_db, prefix, ROTATED)  # the members are stopped: allowed
        (new,) = members_on(secured, cluster_db, prefix, tmp_path / "new", 1, ROTATED)
        new.start()
        wait_for(lambda: set(owners(db).values()) == {"m0"}, 45, "the new member holding all")
        before = len(stored_readings(db))
        gateway = Device(secured.host, secured.port, *gateways["town2"])
        assert gateway.connect()
        for minute in range(10):
            ts = (publisher.base + timedelta(hours=1, minutes=minute)).isoformat()
            gateway.publish(
                "cityops/town2/sensors/river-1/readings", f'{{"value": 1, "ts": "{ts}"}}'
            )
        gateway.stop()
        wait_for(lambda: len(stored_readings(db)) == before + 10, 30, "readings after rotation")
        check_exactly_once(db, publisher)
        assert "MQTT connection of partition" not in new.log_tail(), new.log_tail()
    finally:
        if publisher is not None:
            publisher.stop()
        if new is not None:
            new.stop()
        old.stop()
