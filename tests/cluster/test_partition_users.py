"""Partition users of multi-process ingest (services/partition_users.py): passwords derived from
the ingest secret, the broker files that carry them (bus/mosquitto.py), and the supervised
Mosquitto, which gives a new municipality its partition user without a manual sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from cityops.app import import_config
from cityops.bus.mosquitto import acl_file, changed_partitions, check_names, password_file
from cityops.bus.mosquitto_conf import find_mosquitto
from cityops.bus.supervisor import SupervisedMosquitto
from cityops.cli import app
from cityops.domain.device_secret import verify
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.services import devices
from cityops.services.partition_users import (
    IngestSecretError,
    PartitionUser,
    partition_hash,
    partition_password,
    read_secret,
)
from tests.e2e.acl_support import Device, issue, wait_for
from tests.harness import LOOPBACK, free_port
from tests.town import MUNI, neighbour_yaml, town_db

SECRET = "s" * 40
secrets_ = st.text(min_size=32, max_size=80).filter(lambda s: len(s.strip()) >= 32)
client_ids = st.from_regex(r"[A-Za-z0-9_.\-]{1,40}-[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True)


@given(secrets_, client_ids, client_ids)
def test_a_partition_password_is_the_secrets_and_the_client_ids_alone(
    secret: str, one: str, other: str
) -> None:
    password = partition_password(secret, one)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", password)
    assert password == partition_password(secret, one)
    assert partition_hash(secret, one) == partition_hash(secret, one)  # the file stays put
    assert verify(password, partition_hash(secret, one))
    if other != one:
        assert partition_password(secret, other) != password
        assert not verify(partition_password(secret, other), partition_hash(secret, one))
    assert partition_password(secret + "x", one) != password  # a rotated secret


@given(st.text(max_size=80))
def test_the_secret_is_read_stripped_and_refused_when_short(text: str) -> None:
    if len(text.strip()) >= 32:
        assert read_secret(text, None) == text.strip()
    else:
        with pytest.raises(IngestSecretError):
            read_secret(text, None)


def test_the_secret_from_a_file_and_never_from_both(tmp_path: Path) -> None:
    path = tmp_path / "ingest.secret"
    path.write_text(f"  {SECRET}\n")
    assert read_secret(None, path) == SECRET
    assert read_secret(None, None) is None
    with pytest.raises(IngestSecretError, match="not both"):
        read_secret(SECRET, path)
    with pytest.raises(IngestSecretError, match="missing"):
        read_secret(None, tmp_path / "missing")


def test_the_files_give_a_partition_user_its_own_municipalitys_inbound_topics_to_read() -> None:
    users = [
        PartitionUser("ci-north", "north", partition_hash(SECRET, "ci-north"), ("cam-n",)),
        PartitionUser("ci-south", "south", partition_hash(SECRET, "ci-south"), ()),
    ]
    assert password_file([], users).splitlines() == [f"{u.username}:{u.secret_hash}" for u in users]
    blocks = acl_file([], users).split("\nuser ")[1:]
    north = [line for line in blocks[0].splitlines() if not line.startswith("#")]
    assert north[0] == "ci-north"
    assert all(line.startswith("topic read ") for line in north[1:] if line), north
    topics = [line.removeprefix("topic read ") for line in north[1:] if line]
    assert "cam-n/events" in topics
    assert "cityops/north/sensors/+/readings" in topics
    assert all(t.startswith("cityops/north/") for t in topics if t != "cam-n/events"), topics
    assert not any("south" in line for line in north)


def test_a_partition_user_named_like_a_device_credential_is_refused(tmp_path: Path) -> None:
    db = town_db(f"sqlite:///{tmp_path / 'c.db'}")
    username, _ = issue(db, DeviceScope("b-north", DeviceKind.GATEWAY, MUNI))
    with db.connect() as conn:
        rows = devices.listed(conn)
    db.dispose()
    clash = PartitionUser(username, "north", partition_hash(SECRET, username), ())
    with pytest.raises(ValueError, match="named like device credentials"):
        check_names(rows, [clash])


@pytest.mark.skipif(find_mosquitto() is None, reason="Mosquitto not installed")
def test_the_supervised_broker_gives_a_new_municipality_its_partition_user(
    tmp_path: Path,
) -> None:
    db = town_db(f"sqlite:///{tmp_path / 'c.db'}")
    binary = find_mosquitto()
    assert binary is not None
    port = free_port()
    broker = SupervisedMosquitto(
        binary,
        tmp_path / "broker",
        db,
        port=port,
        refresh_s=0.2,
        ingest_secret=SECRET,
        client_prefix="ci",
    )
    broker.start()

    def logs_in(municipality: str) -> bool:
        name = f"ci-{municipality}"
        dev = Device(LOOPBACK, port, name, partition_password(SECRET, name), client_id=name)
        ok = dev.connect()
        if ok:
            dev.stop()
        return ok

    try:
        assert logs_in(MUNI)
        assert not logs_in("newtown")
        import_config(db, neighbour_yaml(tmp_path, "newtown"), actor="test")
        wait_for(lambda: "ci-newtown:" in broker.files.passwd.read_text(), 10, "its user")
        wait_for(lambda: logs_in("newtown"), 10, "the new partition user logging in")
    finally:
        broker.stop()
        db.dispose()


def test_with_a_secret_a_members_mqtt_url_needs_no_password_in_production(tmp_path: Path) -> None:
    env = {
        "CITYOPS_ENV": "production",
        "CITYOPS_DATA_DIR": str(tmp_path),
        "CITYOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "CITYOPS_MQTT_URL": "mqtt://broker.example:1883",
        "CITYOPS_INGEST_SECRET_FILE": None,
    }
    without = CliRunner().invoke(app, ["ingest"], env=env | {"CITYOPS_INGEST_SECRET": None})
    assert without.exit_code == 2
    assert "CITYOPS_MQTT_URL has no password" in without.output
    with_secret = CliRunner().invoke(app, ["ingest"], env=env | {"CITYOPS_INGEST_SECRET": SECRET})
    assert with_secret.exit_code == 2  # refused further on: the partitions need PostgreSQL
    assert "CITYOPS_MQTT_URL" not in with_secret.output
    assert "needs PostgreSQL" in with_secret.output


def test_a_sync_that_would_change_or_drop_a_partition_password_is_caught() -> None:
    def users(secret: str, *munis: str) -> list[PartitionUser]:
        return [PartitionUser(f"ci-{m}", m, partition_hash(secret, f"ci-{m}"), ()) for m in munis]

    now = users(SECRET, "north", "south")
    files = (password_file([], now), acl_file([], now))
    assert changed_partitions(*files, now) == []
    assert changed_partitions(*files, users(SECRET, "north", "south", "east")) == []  # added
    assert changed_partitions(*files, users("r" * 40, "north", "south")) == ["ci-north", "ci-south"]
    assert changed_partitions(*files, users(SECRET, "north")) == ["ci-south"]
    assert changed_partitions(*files, []) == ["ci-north", "ci-south"]
    assert changed_partitions("", "", now) == []  # a first sync
