"""`cityops ingest` processes, a QoS 1 publisher of threshold episodes, and what the database
must hold afterwards (tests/cluster)."""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import Engine, func, select

from cityops.app import ControlCenter
from cityops.store import cluster_repo
from cityops.store import tables as t
from tests.harness import LOOPBACK
from tests.town import api_client

SENSORS = ("river-1", "river-2")
HIGH, LOW = 14, 6
"""An episode: 14 one-minute readings above the flood rule's 2.8 m ("for 10min": it is raised
at the 11th), then 6 below its clear value of 2.6 m (cleared at the first)."""
EPISODE = HIGH + LOW
RAISED_AT, CLEARED_AT = 10, HIGH
"""Minutes into an episode when the rule is raised and cleared."""


class Member:
    """One `cityops ingest` process (``python -m cityops.cli ingest``)."""

    def __init__(
        self,
        name: str,
        db_url: str,
        mqtt_url: str,
        data_dir: Path,
        prefix: str,
        extra_env: Mapping[str, str] | None = None,
    ):
        self.name, self.log_path = name, data_dir / f"{name}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(
            os.environ,
            CITYOPS_ENV="development",
            CITYOPS_DATA_DIR=str(data_dir),
            CITYOPS_DATABASE_URL=db_url,
            CITYOPS_MQTT_URL=mqtt_url,
            CITYOPS_INGEST_MEMBER_ID=name,
            CITYOPS_INGEST_CLIENT_PREFIX=prefix,
            CITYOPS_INGEST_LEASE_S="3",
            CITYOPS_INGEST_HEARTBEAT_S="0.5",
            CITYOPS_CONFIG_POLL_S="0",
            CITYOPS_LOG_LEVEL="INFO",
            **(extra_env or {}),
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cityops.cli", "ingest"], env=self.env, stdout=log, stderr=log
        )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        """SIGTERM (a graceful leave); the exit status."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.terminate()
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]


def owners(db: Engine) -> dict[str, str | None]:
    with db.connect() as conn:
        return {p.municipality: p.owner for p in cluster_repo.partitions(conn)}


def wait_for(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def balanced(db: Engine, members: list[str], towns: tuple[str, ...]) -> bool:
    held = Counter(owners(db).values())
    share = -(-len(towns) // len(members))
    return sum(held[m] for m in members) == len(towns) and all(
        0 < held[m] <= share for m in members
    )


class Publisher:
    """A QoS 1 publisher of ``episodes`` threshold episodes per sensor of each town, at
    ``rate`` messages/s, one reading per message; remembers what the broker acknowledged.
    ``credentials`` (town -> username, secret): one connection per town with its gateway's
    credential (a secured broker); else one anonymous connection for every town."""

    def __init__(
        self,
        port: int,
        towns: tuple[str, ...],
        episodes: int,
        rate: float,
        credentials: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self.towns, self.episodes, self.rate = towns, episodes, rate
        self.clients: dict[str, mqtt.Client] = {}
        for town in towns if credentials else ("",):
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{os.getpid()}-{town}")
            if credentials:
                client.username_pw_set(*credentials[town])
            client.max_inflight_messages_set(100)
            client.max_queued_messages_set(0)
            client.on_publish = functools.partial(self._on_publish, town)
            client.connect(LOOPBACK, port)
            self.clients[town] = client
        self.base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=6)
        self.acked: set[tuple[str, int]] = set()  # connection, mid
        self.sent: list[tuple[str, str, datetime, int]] = []  # town, sensor, ts, mid
        self.done = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def total(self) -> int:
        return len(self.towns) * len(SENSORS) * self.episodes * EPISODE

    def _on_publish(
        self, town: str, _c: object, _u: object, mid: int, _rc: object, _p: object
    ) -> None:
        self.acked.add((town, mid))

    def _key(self, town: str) -> str:
        return town if town in self.clients else ""

    def start(self) -> None:
        for client in self.clients.values():
            client.loop_start()
        self._thread.start()

    def _run(self) -> None:
        began, i = time.monotonic(), 0
        for minute in range(self.episodes * EPISODE):
            value = 3.0 if minute % EPISODE < HIGH else 2.0
            ts = self.base + timedelta(minutes=minute)
            for town in self.towns:
                for sensor in SENSORS:
                    lag = began + i / self.rate - time.monotonic()
                    if lag > 0:
                        time.sleep(lag)
                    topic = f"cityops/{town}/sensors/{sensor}/readings"
                    payload = f'{{"value": {value}, "ts": "{ts.isoformat()}"}}'
                    info = self.clients[self._key(town)].publish(topic, payload, qos=1)
                    self.sent.append((town, sensor, ts, info.mid))
                    i += 1
        self.done.set()

    def acknowledged(self) -> set[tuple[str, str, datetime]]:
        return {(m, s, ts) for m, s, ts, mid in self.sent if (self._key(m), mid) in self.acked}

    def stop(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()

    def expected_episodes(self) -> tuple[list[datetime], list[datetime]]:
        """When each episode is raised and cleared (the readings' own times)."""
        starts = [self.base + timedelta(minutes=e * EPISODE) for e in range(self.episodes)]
        return (
            [s + timedelta(minutes=RAISED_AT) for s in starts],
            [s + timedelta(minutes=CLEARED_AT) for s in starts],
        )


def stored_readings(db: Engine) -> list[tuple[str, str, datetime]]:
    r = t.readings
    with db.connect() as conn:
        rows = conn.execute(select(r.c.municipality, r.c.sensor_id, r.c.ts))
        return [(row.municipality, row.sensor_id, row.ts) for row in rows]


def wait_until_stored(db: Engine, publisher: Publisher, timeout: float) -> None:
    """Every acknowledged reading in the database, or ``timeout``."""
    assert publisher.done.wait(timeout), "the publisher could not publish everything"
    wait_for(lambda: len(publisher.acked) >= publisher.total, timeout, "every PUBACK")
    acked = publisher.acknowledged()
    wait_for(lambda: acked <= set(stored_readings(db)), timeout, "every reading stored")


def flood_timelines(db: Engine) -> dict[tuple[str, str], Counter[tuple[str, str]]]:
    """(town, incident dedup key) -> Counter of (kind, observed_at) of its rule entries."""
    i, tl = t.incidents, t.incident_timeline
    query = (
        select(i.c.municipality, i.c.dedup_key, tl.c.kind, tl.c.data)
        .join(tl, tl.c.incident_id == i.c.id)
        .where(i.c.rule_id == "flood-level", tl.c.kind.in_(("created", "trigger", "cleared")))
    )
    out: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    with db.connect() as conn:
        for row in conn.execute(query):
            kind = "raised" if row.kind in ("created", "trigger") else "cleared"
            key = (row.municipality, str(row.dedup_key))
            out.setdefault(key, Counter())[(kind, row.data["observed_at"])] += 1
    return out


def flood_incidents(db: Engine) -> Counter[str]:
    i = t.incidents
    with db.connect() as conn:
        rows = conn.execute(
            select(i.c.municipality, func.count())
            .where(i.c.rule_id == "flood-level")
            .group_by(i.c.municipality)
        )
        return Counter({row[0]: int(row[1]) for row in rows})


def check_exactly_once(db: Engine, publisher: Publisher) -> None:
    """Every acknowledged reading stored once; each sensor's flood incident raised once per
    episode and cleared once per episode, at the readings' times, none lost or doubled."""
    rows = stored_readings(db)
    assert len(rows) == len(set(rows)), "a reading stored twice"
    missing = publisher.acknowledged() - set(rows)
    assert not missing, f"{len(missing)} acknowledged readings lost: {sorted(missing)[:5]}"
    raised, cleared = publisher.expected_episodes()
    want: Counter[tuple[str, str]] = Counter(
        [("raised", at.isoformat()) for at in raised]
        + [("cleared", at.isoformat()) for at in cleared]
    )
    timelines = flood_timelines(db)
    assert flood_incidents(db) == Counter(dict.fromkeys(publisher.towns, len(SENSORS))), (
        "one flood incident per sensor (its episodes join it)"
    )
    assert len(timelines) == len(publisher.towns) * len(SENSORS)
    for key, got in sorted(timelines.items()):
        assert got == want, (
            f"{key}: {sorted((got - want).items())} extra, {sorted((want - got).items())} missing"
        )


class Recorder:
    """The process side of a member, reduced to what it was told (``Partitions``)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []

    def acquire(self, municipality: str) -> None:
        self.calls.append(("acquire", municipality))

    def release(self, municipality: str) -> None:
        self.calls.append(("release", municipality))

    def drop(self, municipality: str) -> None:
        self.calls.append(("drop", municipality))

    def of(self, kind: str) -> set[str]:
        return {m for k, m in self.calls if k == kind}


def health(server: ControlCenter) -> dict[str, Any]:
    """The server's /health answer."""
    with api_client(server, municipality="town1") as client:
        answer: dict[str, Any] = client.get("/api/v1/health").json()
    return answer
