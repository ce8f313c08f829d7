"""A Mosquitto secured as in production for tests/cluster (docs/SCALING.md "Partition
credentials"): the real `cityops mqtt sync` with the ingest secret, a wait for the broker's
reload that reads its log, and a rig that starts members and publishers and stops them all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from typer.testing import CliRunner

from cityops.cli import app
from tests.cluster.conftest import TOWNS
from tests.cluster.support import Member, Publisher, owners, stored_readings, wait_for
from tests.e2e.acl_support import Device
from tests.harness import MosquittoServer

SECRET = "partition-test-secret-" + "x" * 20  # 42 characters
ROTATED = "partition-test-rotated-" + "y" * 20
RELOADING = "Reloading config"
"""What Mosquitto logs on SIGHUP, then re-reads its files before it reads the network again:
any connection made after this line is judged by the new files."""


def reloads(broker: MosquittoServer) -> int:
    """How often the broker has begun a reload (lines of its log)."""
    log = broker.base_dir / "server.log"
    return log.read_text(errors="replace").count(RELOADING) if log.exists() else 0


def sync(
    broker: MosquittoServer,
    db_url: str,
    prefix: str,
    secret: str | None = SECRET,
    *,
    rotate: bool = True,
    code: int = 0,
    pid_file: bool = True,
) -> str:
    """The real `cityops mqtt sync` (SIGHUP and the new partitions' sessions included) with the
    ingest secret; its output, once the broker has reloaded (without ``pid_file`` it is not
    told to). ``rotate`` by default: each test
    starts with no member running and users of its own prefix, dropping the last test's
    (which the sync refuses without the flag)."""
    env: dict[str, str | None] = {
        "CITYOPS_DATABASE_URL": db_url,
        "CITYOPS_MQTT_URL": broker.url,
        "CITYOPS_INGEST_CLIENT_PREFIX": prefix,
        "CITYOPS_INGEST_SECRET": secret,  # None: unset
        "CITYOPS_INGEST_SECRET_FILE": None,
    }
    args = ["mqtt", "sync", "--password-file", str(broker.password_path)]
    args += ["--acl-file", str(broker.acl_path)]
    args += ["--pid-file", str(broker.pid_path)] if pid_file else []
    args += ["--rotate-ingest-secret"] if rotate else []
    before = reloads(broker)
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == code, result.output
    if "told to reload" in result.output:
        wait_for(lambda: reloads(broker) > before, 60, "Mosquitto to reload its files")
    return result.output


@dataclass
class Rig:
    """Members and publishers on one secured broker and database, stopped by the fixture."""

    db: Engine
    db_url: str
    broker: MosquittoServer
    prefix: str
    gateways: dict[str, tuple[str, str]]
    tmp_path: Path
    members: list[Member] = field(default_factory=list)
    publishers: list[Publisher] = field(default_factory=list)

    def start_members(self, n: int, secret: str = SECRET, group: str = "") -> list[Member]:
        env = {"CITYOPS_INGEST_SECRET": secret}
        url, where = self.broker.url, self.tmp_path / group
        started = [Member(f"m{i}", self.db_url, url, where / f"m{i}", self.prefix, env)
                   for i in range(n)]  # fmt: skip
        for member in started:
            member.start()
        self.members += started
        return started

    def holding_all(self, name: str = "m0") -> None:
        wait_for(lambda: set(owners(self.db).values()) == {name}, 45, f"{name} holding all")

    def publish(self, episodes: int) -> Publisher:
        publisher = Publisher(
            self.broker.port, TOWNS, episodes=episodes, rate=150, credentials=self.gateways
        )
        self.publishers.append(publisher)
        publisher.start()
        return publisher

    def warm_up(self) -> None:
        """A low reading per town, half an hour before the publisher's, sent again every
        second until stored: every partition's member has its session live."""
        base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=6, minutes=30)
        payload = f'{{"value": 1.0, "ts": "{base.isoformat()}"}}'
        host, port = self.broker.host, self.broker.port
        devices = [Device(host, port, *self.gateways[town]) for town in TOWNS]
        for device in devices:
            assert device.connect()
        try:
            deadline = time.monotonic() + 60
            while missing := set(TOWNS) - {m for m, _s, _t in stored_readings(self.db)}:
                assert time.monotonic() < deadline, f"no session live for {sorted(missing)}"
                for town, device in zip(TOWNS, devices, strict=True):
                    if town in missing:
                        device.publish(f"cityops/{town}/sensors/river-2/readings", payload)
                time.sleep(1.0)
        finally:
            for device in devices:
                device.stop()

    def close(self) -> None:
        for publisher in self.publishers:
            publisher.stop()
        for member in self.members:
            member.stop()


def reload(broker: MosquittoServer) -> None:
    """SIGHUP the broker by hand, and wait until it has re-read its files."""
    before = reloads(broker)
    broker.reload()
    wait_for(lambda: reloads(broker) > before, 60, "Mosquitto to reload its files")
