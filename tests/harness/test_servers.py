"""Tests of the harness itself: the servers are real, and configured as the suite relies on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from . import servers
from .servers import (
    MosquittoServer,
    PostgresServer,
    ServerStartError,
    free_port,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
)

# --------------------------------------------------------------------------------------------
# MQTT helpers


class Client:
    """A paho client (MQTT 3.1.1) run in its loop thread, recording what it receives."""

    def __init__(self, server: MosquittoServer, client_id: str, *, clean: bool = True) -> None:
        self.messages: list[mqtt.MQTTMessage] = []
        self.session_present: bool | None = None
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._lock = threading.Lock()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            clean_session=clean,
            protocol=mqtt.MQTTv311,
        )
        self._client.max_inflight_messages_set(100)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.connect(server.host, server.port, keepalive=30)
        self._client.loop_start()
        assert self._connected.wait(10), f"no CONNACK from {server.url}"

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags, rc: ReasonCode, _: Any
    ) -> None:
        assert not rc.is_failure, rc
        self.session_present = flags.session_present
        self._connected.set()

    def _on_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, rcs: list[ReasonCode], _: Any
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(msg)

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self._client.subscribe(topic, qos=qos)
        assert self._subscribed.wait(10), "no SUBACK"

    def publish(self, topic: str, payloads: list[bytes], qos: int = 1) -> None:
        """Publish and wait until the broker has acknowledged every message."""
        infos = [self._client.publish(topic, p, qos=qos) for p in payloads]
        for info in infos:
            info.wait_for_publish(timeout=60)
            assert info.is_published(), f"message {info.mid} not acknowledged by the broker"

    def wait_for(self, count: int, timeout: float = 60, idle: float = 5) -> list[bytes]:
        """Payloads received once ``count`` arrived, or nothing new came for ``idle`` seconds."""
        deadline = time.monotonic() + timeout
        seen, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            with self._lock:
                got = len(self.messages)
            if got >= count:
                time.sleep(0.2)  # let any duplicate show up too
                break
            if got != seen:
                seen, last_change = got, time.monotonic()
            elif time.monotonic() - last_change > idle:
                break
            time.sleep(0.02)
        with self._lock:
            return [bytes(m.payload) for m in self.messages]

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def park_persistent_subscriber(server: MosquittoServer, topic: str) -> str:
    """Subscribe a clean-session-off client with QoS 1, then disconnect it; return its id."""
    client_id = f"persistent-{uuid.uuid4().hex[:8]}"
    sub = Client(server, client_id, clean=False)
    sub.subscribe(topic, qos=1)
    sub.close()
    return client_id


def queue_while_offline(
    server: MosquittoServer, count: int, size: int = 200
) -> tuple[str, list[bytes]]:
    """Park a persistent subscriber, publish ``count`` QoS 1 messages for it while it is offline;
    return its client id and the messages."""
    topic = f"harness/{uuid.uuid4().hex[:8]}"
    client_id = park_persistent_subscriber(server, topic)
    payloads = [f"{i:06d}".encode().ljust(size, b".") for i in range(count)]
    pub = Client(server, f"pub-{uuid.uuid4().hex[:8]}")
    pub.publish(topic, payloads)
    pub.close()
    return client_id, payloads


# --------------------------------------------------------------------------------------------
# free_port


def test_free_port_can_be_bound() -> None:
    port = free_port()
    assert 1024 <= port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


# --------------------------------------------------------------------------------------------
# Mosquitto


def test_broker_accepts_qos1_publish(mosquitto: MosquittoServer) -> None:
    assert mosquitto.url == f"mqtt://127.0.0.1:{mosquitto.port}"
    topic = f"harness/{uuid.uuid4().hex[:8]}"
    sub = Client(mosquitto, f"sub-{uuid.uuid4().hex[:8]}")
    sub.subscribe(topic)
    pub = Client(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    pub.publish(topic, [b'{"value": 2.91}'], qos=1)
    assert sub.wait_for(1, timeout=10) == [b'{"value": 2.91}']
    pub.close()
    sub.close()


def test_broker_carries_1mb_message(mosquitto: MosquittoServer) -> None:
    topic = f"harness/{uuid.uuid4().hex[:8]}"
    payload = os.urandom(1024 * 1024)
    sub = Client(mosquitto, f"sub-{uuid.uuid4().hex[:8]}")
    sub.subscribe(topic)
    pub = Client(mosquitto, f"pub-{uuid.uuid4().hex[:8]}")
    pub.publish(topic, [payload], qos=1)
    assert sub.wait_for(1, timeout=20) == [payload]
    pub.close()
    sub.close()


def _reconnect_and_drain(
    server: MosquittoServer, client_id: str, expected: int, idle: float = 5
) -> list[bytes]:
    sub = Client(server, client_id, clean=False)
    try:
        assert sub.session_present, "the broker forgot the persistent session"
        return sub.wait_for(expected, idle=idle)
    finally:
        sub.close()


def test_persistent_session_gets_5000_queued_messages_none_dropped(
    mosquitto: MosquittoServer,
) -> None:
    client_id, sent = queue_while_offline(mosquitto, 5000)
    received = _reconnect_and_drain(mosquitto, client_id, len(sent))
    missing = set(sent) - set(received)
    assert not missing, f"broker dropped {len(missing)} of {len(sent)} QoS 1 messages"
    assert received == sent  # in order, no duplicates


def test_default_queue_limit_would_drop() -> None:
    """Control: with Mosquitto's default queue limit the test above would catch the drops."""
    if reason := mosquitto_unavailable_reason():
        pytest.skip(reason)
    with MosquittoServer(max_queued_messages=1000) as broker:
        client_id, sent = queue_while_offline(broker, 5000)
        received = _reconnect_and_drain(broker, client_id, len(sent), idle=2)
    assert len(received) < len(sent)
    assert len(received) <= 1000 + 100  # queue limit plus at most the in-flight window


@pytest.fixture
def own_broker() -> Iterator[MosquittoServer]:
    """A broker of the test's own, for tests that restart or stop it."""
    if reason := mosquitto_unavailable_reason():
        pytest.skip(reason)
    with MosquittoServer() as broker:
        yield broker


def test_restart_keeps_persistent_session_queue(own_broker: MosquittoServer) -> None:
    port, pid = own_broker.port, own_broker.pid
    client_id, sent = queue_while_offline(own_broker, 500)
    own_broker.restart()
    assert own_broker.port == port
    assert own_broker.pid not in (None, pid)
    received = _reconnect_and_drain(own_broker, client_id, len(sent))
    assert received == sent


def test_stop_leaves_no_process_and_no_files(own_broker: MosquittoServer) -> None:
    pid, base = own_broker.pid, own_broker.base_dir
    assert pid is not None
    own_broker.stop()
    assert not own_broker.running
    assert not _alive(pid)
    assert not base.exists()
    own_broker.stop()  # idempotent


def _connack(broker: MosquittoServer, username: str | None, password: str | None) -> bool:
    """True when the broker accepts a CONNECT with these credentials."""
    got: list[bool] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}")
    if username is not None:
        client.username_pw_set(username, password)
    client.on_connect = lambda _c, _u, _f, rc, _p: got.append(not rc.is_failure)
    client.connect(broker.host, broker.port)
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        if client.loop(0.05) != mqtt.MQTT_ERR_SUCCESS:
            break
    client.disconnect()
    return bool(got and got[0])


def test_a_secured_broker_takes_users_from_its_files_on_reload() -> None:
    """secured=True: anonymous refused; a user written to password_path and acl_path is let in
    after reload(); pid_path names the broker (what `cityops mqtt sync --pid-file` signals)."""
    if reason := mosquitto_unavailable_reason():
        pytest.skip(reason)
    from cityops.domain.device_secret import hash_secret

    with MosquittoServer(secured=True, max_queued_messages=1000) as broker:
        assert broker.pid_path.read_text().strip() == str(broker.pid)
        assert not _connack(broker, None, None)
        assert not _connack(broker, "gw", "s3cret")
        broker.password_path.write_text(f"gw:{hash_secret('s3cret')}\n")
        broker.acl_path.write_text("user gw\ntopic write a/b\n")
        broker.reload()
        deadline = time.monotonic() + 5
        while not _connack(broker, "gw", "s3cret") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _connack(broker, "gw", "s3cret")
        assert not _connack(broker, "gw", "wrong")
        assert "use_username_as_clientid true" in broker.config_path.read_text()


def test_start_retries_when_its_port_is_taken(monkeypatch: pytest.MonkeyPatch) -> None:
    if reason := mosquitto_unavailable_reason():
        pytest.skip(reason)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        monkeypatch.setattr(servers, "free_port", lambda host="": next(ports, 0) or free_port())
        with MosquittoServer() as broker:
            assert broker.port != taken
            assert broker.running
        with pytest.raises(ServerStartError, match="in use"), MosquittoServer(taken):
            pass


def test_servers_die_with_the_process_that_started_them(tmp_path: Path) -> None:
    """A test run killed with SIGKILL leaves no server running, and its directories go later."""
    if reason := mosquitto_unavailable_reason() or postgres_unavailable_reason():
        pytest.skip(reason)
    if not servers._pdeathsig_prefix("TERM"):
        pytest.skip("setpriv --pdeathsig (util-linux) not available")
    script = (
        "import sys, time\n"
        "from harness import MosquittoServer, PostgresServer\n"
        "m, p = MosquittoServer().start(), PostgresServer().start()\n"
        "print(m.pid, p.pid, m.base_dir, p.base_dir, flush=True)\n"
        "time.sleep(120)\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        m_pid, p_pid, m_dir, p_dir = child.stdout.readline().split()
    finally:
        child.kill()
        child.wait()
    deadline = time.monotonic() + 20
    while (_alive(int(m_pid)) or _alive(int(p_pid))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(int(m_pid)), "mosquitto outlived the process that started it"
    assert not _alive(int(p_pid)), "postgres outlived the process that started it"
    with MosquittoServer():
        assert not Path(m_dir).exists(), "stale mosquitto directory not swept"
    servers._sweep_stale(Path(p_dir).parent, "cityops-postgres-")  # as PostgresServer() does
    assert not Path(p_dir).exists(), "stale postgres directory not swept"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --------------------------------------------------------------------------------------------
# PostgreSQL


def test_postgres_accepts_sqlalchemy_connection(postgres: PostgresServer) -> None:
    assert postgres.url == f"postgresql+psycopg://postgres@127.0.0.1:{postgres.port}/cityops_test"
    engine = sa.create_engine(postgres.url)
    try:
        with engine.connect() as conn:
            version = conn.execute(sa.text("select version()")).scalar_one()
            database = conn.execute(sa.text("select current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert "PostgreSQL" in version
    assert database == "cityops_test"


def test_create_database_gives_isolated_databases(postgres: PostgresServer) -> None:
    url_a = postgres.create_database()
    url_b = postgres.create_database()
    assert url_a != url_b
    engine_a, engine_b = sa.create_engine(url_a), sa.create_engine(url_b)
    try:
        with engine_a.begin() as conn:
            conn.execute(sa.text("create table reading (value float)"))
            conn.execute(sa.text("insert into reading values (2.91)"))
        with engine_b.connect() as conn:
            tables = conn.execute(
                sa.text("select count(*) from pg_tables where schemaname = 'public'")
            ).scalar_one()
        assert tables == 0
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_pg_url_is_fresh_per_test(pg_url: str, postgres: PostgresServer) -> None:
    assert pg_url != postgres.url
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                sa.text("select count(*) from pg_tables where schemaname = 'public'")
            ).scalar_one()
    finally:
        engine.dispose()
    assert tables == 0


def test_postgres_runs_unprivileged(postgres: PostgresServer) -> None:
    assert postgres.pid is not None
    uid = os.stat(f"/proc/{postgres.pid}").st_uid
    assert uid != 0 or os.geteuid() != 0
