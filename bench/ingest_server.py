"""The system under test of bench/ingest.py: a town, its store and broker, `cityops serve`.

``setup()`` prepares the store (SQLite file, or PostgreSQL started by the harness: durable by
default), the broker (the embedded amqtt, the Mosquitto that CityOps supervises, or Mosquitto
started by the harness), the credentials (a gateway that publishes readings; for the ceiling
measurement a publisher and a subscriber on ``benchceiling/#``, a topic CityOps does not
subscribe to), the town and an API token, and starts `cityops serve` in its own process;
``BenchServer`` stops it, kills it and starts it again on the same broker and store (the
backlog measurement).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import Engine, text
from tests.harness import MosquittoServer, PostgresServer, free_port

from cityops.bus import mosquitto
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.mqtt_url import with_credentials
from cityops.services import devices
from cityops.store.db import make_engine, upgrade

SENSORS = 1000
MUNI = "benchtown"
CEILING_PREFIX = "benchceiling"
"""The ceiling's topics: a Frigate-style prefix that no configured Frigate uses, so CityOps
does not subscribe to it and the do-nothing subscriber alone receives that stream."""
MODES = ("embedded", "supervised", "mosquitto")


def town_yaml(municipality: str = MUNI, sensors: int = SENSORS) -> str:
    """A municipality of ``sensors`` river gauges ``s0``.. with a threshold rule (> 50: a flood
    incident, severe) and a rate-of-change rule on each."""
    lines = [
        "version: 1",
        f"municipality: {{id: {municipality}, name: Bench {municipality}, "
        "center: {lon: 25.39, lat: 42.62}}",
        "agencies: [{id: cp, name: Civil Protection, kind: civil_protection}]",
        "sensors:",
    ]
    for i in range(sensors):
        lon = 25.30 + (i % 40) * 0.004
        lat = 42.58 + (i // 40) * 0.003
        lines.append(
            f"  - {{id: s{i}, name: Gauge {i}, kind: river_level, unit: m, lon: {lon:.4f}, "
            f"lat: {lat:.4f}, valid_min: 0, valid_max: 100, expected_interval_s: 60}}"
        )
    lines += [
        "rules:",
        "  - {id: high, kind: threshold, sensor_kinds: [river_level], op: '>', value: 50,"
        "     incident: {type: flood, sector: disaster, severity: severe, title: 'High {name}',"
        "     agency: cp}}",
        "  - {id: rise, kind: rate_of_change, sensor_kinds: [river_level], rise: 30,"
        "     within: 30min, incident: {type: rise, sector: disaster, severity: moderate,"
        "     title: 'Rise {name}'}}",
    ]
    return "\n".join(lines) + "\n"


def credential(db: Engine, scope: DeviceScope) -> tuple[str, str]:
    with db.begin() as conn:
        made = devices.create(conn, scope, actor="bench")
    return made.row.username, made.secret


def import_town(db_url: str, workdir: Path, municipality: str, sensors: int) -> None:
    """What `cityops import-config` does, in this process (no start-up per town)."""
    from cityops.app import import_config

    cfg = workdir / f"{municipality}.yaml"
    cfg.write_text(town_yaml(municipality, sensors))
    db = make_engine(db_url)
    try:
        import_config(db, cfg, actor="bench")
    finally:
        db.dispose()


def store_settings(db_url: str) -> dict[str, str]:
    """What makes commits durable, as the store reports it (``SHOW``, ``PRAGMA``)."""
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            if db.dialect.name == "postgresql":
                names = (
                    "fsync",
                    "synchronous_commit",
                    "full_page_writes",
                    "wal_level",
                    "wal_init_zero",
                )
                return {n: str(conn.execute(text(f"SHOW {n}")).scalar_one()) for n in names}
            return {
                n: str(conn.execute(text(f"PRAGMA {n}")).scalar_one())
                for n in ("journal_mode", "synchronous")
            }
    finally:
        db.dispose()


def max_queued(conf: Path | None) -> int | None:
    """``max_queued_messages`` of a mosquitto.conf (Mosquitto's default 1,000 when absent)."""
    if conf is None:
        return None
    values = [
        int(line.split()[1])
        for line in conf.read_text().splitlines()
        if line.strip().startswith("max_queued_messages ")
    ]
    return values[-1] if values else 1000


class BenchServer:
    """`cityops serve` in its own process, started again as often as asked."""

    def __init__(self, env: dict[str, str], workdir: Path, http_port: int) -> None:
        self.env, self.workdir, self.http_port = env, workdir, http_port
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self.proc is None:
            raise RuntimeError("the server is not running")
        return self.proc.pid

    def launch(self) -> None:
        """Start the process and return at once (the backlog's clock starts here)."""
        log = (self.workdir / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cityops.cli", "serve"], env=self.env, stdout=log, stderr=log
        )

    def wait_ready(self, timeout: float = 120.0) -> None:
        """Until /health says the ingest is connected to the broker."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                url = f"http://127.0.0.1:{self.http_port}/api/v1/health"
                if httpx.get(url, timeout=5).json()["mqtt_connected"]:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"server did not start; see {self.workdir / 'server.log'}")

    def start(self) -> None:
        self.launch()
        self.wait_ready()

    def stop(self) -> None:
        """SIGTERM: a clean stop (the supervised broker stops too, saving its state)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        """SIGKILL: the supervised broker outlives it, and a restarted server adopts it."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None


@dataclass
class Setup:
    """Everything one run of the bench measures against."""

    mode: str
    db_url: str
    gateway_url: str
    """The broker as the publishing gateway logs in."""
    trigger_url: str
    """The same for a second gateway (the latency samples, beside the background load)."""
    ceiling_pub_url: str
    ceiling_sub_url: str
    http_port: int
    token: str
    server: BenchServer
    broker_conf: Path | None
    protocol: str
    """The MQTT version CityOps speaks to this broker (amqtt: 3.1.1 only)."""
    info: dict[str, object] = field(default_factory=dict)


def _stop_orphan_broker(workdir: Path) -> None:
    """A supervised Mosquitto left running by a killed server that was not started again."""
    pid_file = workdir / "broker" / "mosquitto.pid"
    with contextlib.suppress(OSError, ValueError):
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if str(workdir / "broker").encode() in cmdline:
            os.kill(pid, signal.SIGTERM)


@contextlib.contextmanager
def setup(
    mode: str,
    workdir: Path,
    *,
    mqtt_auth: bool = True,
    pg_durable: bool = True,
    pg_settings: Mapping[str, str] | None = None,
) -> Iterator[Setup]:
    """The town, store, broker and credentials of ``mode``, with `cityops serve` running.

    ``mqtt_auth=False`` (``mosquitto`` only) runs the broker anonymous, without password file
    and ACL, and the server in development mode (which alone accepts that): the other half of
    the A/B that measures what MQTT authentication costs. ``pg_durable`` (``mosquitto``):
    PostgreSQL with fsync, synchronous_commit and full_page_writes on; ``pg_settings``: more
    of its settings (``--pg-setting``, e.g. ``wal_init_zero=off``)."""
    from tests.town import account

    with contextlib.ExitStack() as stack:
        env = dict(os.environ, CITYOPS_LOG_LEVEL="WARNING")
        broker: MosquittoServer | None = None
        conf: Path | None
        if mode == "mosquitto":
            # unlimited queue: the backlog measurement queues 1,000,000 messages and more
            broker = stack.enter_context(MosquittoServer(secured=mqtt_auth, max_queued_messages=0))
            pg = stack.enter_context(PostgresServer(durable=pg_durable, settings=pg_settings))
            db_url = pg.create_database(f"bench_{uuid.uuid4().hex[:8]}")
            mqtt_url, conf = broker.url, broker.config_path
        else:
            mqtt_port = free_port()
            env["CITYOPS_MQTT_PORT"] = str(mqtt_port)
            env["CITYOPS_DATA_DIR"] = str(workdir)
            env["CITYOPS_BROKER"] = "mosquitto" if mode == "supervised" else "amqtt"
            db_url = f"sqlite:///{workdir / 'cityops.db'}"
            mqtt_url = f"mqtt://127.0.0.1:{mqtt_port}"
            conf = workdir / "broker" / "mosquitto.conf" if mode == "supervised" else None
            stack.callback(_stop_orphan_broker, workdir)
        http_port = free_port()
        env |= {"CITYOPS_DATABASE_URL": db_url, "CITYOPS_HTTP_PORT": str(http_port)}
        upgrade(db_url)
        db = make_engine(db_url)
        gateway = credential(db, DeviceScope("bench-gw", DeviceKind.GATEWAY, MUNI))
        # a second gateway: a broker that makes the username the client id would otherwise
        # have two connections of one credential take each other's session in turn
        trigger = credential(db, DeviceScope("bench-trigger", DeviceKind.GATEWAY, MUNI))
        ceiling = [
            credential(db, DeviceScope(name, DeviceKind.FRIGATE, MUNI, prefix=CEILING_PREFIX))
            for name in ("ceiling-pub", "ceiling-sub")
        ]
        if broker is not None and not mqtt_auth:
            env["CITYOPS_ENV"] = "development"
            env["CITYOPS_MQTT_URL"] = mqtt_url
        elif broker is not None:
            ingest = credential(db, DeviceScope("bench-ingest", DeviceKind.INGEST, None))
            worker = credential(db, DeviceScope("bench-worker", DeviceKind.WORKER, None))
            env["CITYOPS_VIDEO_MQTT_URL"] = with_credentials(mqtt_url, *worker)
            with db.connect() as conn:
                rows = devices.listed(conn)
            mosquitto.sync(rows, broker.password_path, broker.acl_path, broker.pid_path)
            time.sleep(1.0)  # SIGHUP is handled asynchronously
            env["CITYOPS_MQTT_URL"] = with_credentials(mqtt_url, *ingest)
        import_town(db_url, workdir, MUNI, SENSORS)
        token = account(db, municipality=MUNI)
        db.dispose()
        server = BenchServer(env, workdir, http_port)
        stack.callback(server.stop)
        server.start()

        def login(user: tuple[str, str]) -> str:
            return with_credentials(mqtt_url, *user) if mqtt_auth else mqtt_url

        yield Setup(
            mode=mode,
            db_url=db_url,
            gateway_url=login(gateway),
            trigger_url=login(trigger),
            ceiling_pub_url=login(ceiling[0]),
            ceiling_sub_url=login(ceiling[1]),
            http_port=http_port,
            token=token,
            server=server,
            broker_conf=conf,
            protocol="3.1.1" if mode == "embedded" else "5",
            info={
                "store_settings": store_settings(db_url),
                "broker_max_queued_messages": max_queued(conf),
            },
        )


@contextlib.contextmanager
def server(
    mode: str, workdir: Path, mqtt_auth: bool = True, pg_durable: bool = True
) -> Iterator[tuple[str, str, int, str]]:
    """(database URL, the gateway's broker URL, HTTP port, API token) with `cityops serve`
    running (bench/broker.py's entry)."""
    with setup(mode, workdir, mqtt_auth=mqtt_auth, pg_durable=pg_durable) as s:
        yield s.db_url, s.gateway_url, s.http_port, s.token
