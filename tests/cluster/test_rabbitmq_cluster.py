"""CityOps on a three-node RabbitMQ 3.10 cluster behind haproxy: the node holding CityOps's
connection is SIGKILLed while a device publishes (docs/HA.md "Clustered broker").

`cityops serve` (SQLite, MQTT 3.1.1, its persistent session through haproxy) stores QoS 1
readings a gateway publishes through the same haproxy. The server is frozen (SIGSTOP) for a
moment so that the broker holds a backlog it acknowledged to the gateway and has not delivered,
then the node CityOps is connected to (where its quorum queue was declared, so its leader) is
SIGKILLed and the server let go. Every reading whose PUBACK the gateway received must be stored
exactly once, and the server must resume by itself, through haproxy, on another node.
"""

from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import _unavailable
from tests.e2e.stored_readings import stored_times
from tests.e2e.test_broker_kill import RATE, SENSOR, AcknowledgedLostError, Gateway, Server
from tests.harness.rabbitmq import RabbitMQCluster, rabbitmq_unavailable_reason
from tests.town import MUNI, town_db

pytestmark = pytest.mark.rabbitmq

CLIENT_ID = "cityops-ingest-rabbitmq"
QUEUE = f"mqtt-subscription-{CLIENT_ID}qos1"
"""The RabbitMQ MQTT plugin's queue of a persistent session's QoS 1 subscriptions."""
SECONDS = 8
"""How long the gateway publishes (at ``RATE`` readings/s)."""


@pytest.fixture
def cluster() -> Iterator[RabbitMQCluster]:
    if reason := rabbitmq_unavailable_reason():
        _unavailable(reason)
    with RabbitMQCluster(3, queue_type="quorum") as started:
        yield started


@dataclass
class KillOutcome:
    """What a kill of CityOps's node showed (printed by the test: docs/HA.md quotes it)."""

    queue_before: dict[str, Any]
    queue_after: dict[str, Any] | None
    node: str
    node_after: str | None
    backlog: int
    killed_at: int
    resumed_s: float | None
    acked: set[datetime]
    stored: list[datetime]
    published: set[datetime]
    disconnects: list[str]

    def summary(self) -> str:
        return (
            f"queue {self.queue_before} -> {self.queue_after}; CityOps on {self.node} -> "
            f"{self.node_after}; backlog at the kill {self.backlog}, killed at reading "
            f"{self.killed_at}; ingest resumed {self.resumed_s} s after; {len(self.acked)} "
            f"acknowledged, {len(self.stored)} stored, lost {self.lost()}; gateway "
            f"disconnects {self.disconnects}"
        )

    def lost(self) -> list[int]:
        """The acknowledged readings not stored, by their index in the stream."""
        missing = self.acked - set(self.stored)
        return sorted(int((ts - min(self.published)).total_seconds()) for ts in missing)


def kill_sessions_node(cluster: RabbitMQCluster, tmp_path: Path) -> KillOutcome:
    """The scenario: serve and gateway through haproxy, a backlog made by freezing the server,
    CityOps's node SIGKILLed, the server let go; what happened."""
    db_url = f"sqlite:///{tmp_path / 'cityops.db'}"
    town_db(db_url).dispose()
    server = Server(tmp_path, "amqtt")  # the embedded broker is not started: MQTT_URL is set
    server.env.update(
        CITYOPS_ENV="development",  # the harness's broker user is RabbitMQ's guest
        CITYOPS_MQTT_URL=cluster.url.replace("://", "://guest:guest@"),  # loopback-only user
        CITYOPS_MQTT_PROTOCOL="3.1.1",
        CITYOPS_MQTT_CLIENT_ID=CLIENT_ID,
    )
    assert cluster.proxy is not None
    gateway = Gateway(cluster.proxy.port, "guest", "guest", total=RATE * SECONDS)
    queue_after, node_after, resumed_s = None, None, None
    try:
        server.start()
        assert server.proc is not None
        node = cluster.node_of(CLIENT_ID)
        queue_before = cluster.queues()[QUEUE]
        gateway.start()
        time.sleep(2.0)
        server.proc.send_signal(signal.SIGSTOP)  # acknowledged to the gateway, not delivered
        time.sleep(1.0)
        stored = set(stored_times(db_url, MUNI, SENSOR))  # the server is frozen: final
        backlog = len(gateway.acknowledged() - stored)  # (the broker's counts lag seconds)
        node.kill()
        killed_at = len(gateway.infos)
        server.proc.send_signal(signal.SIGCONT)
        began = time.monotonic()
        if wait_stored_after(db_url, gateway, killed_at, timeout=45):
            resumed_s = time.monotonic() - began
        acked = wait_all_stored(db_url, gateway)
        with contextlib.suppress(KeyError, AssertionError, RuntimeError):
            queue_after = cluster.queues()[QUEUE]
            node_after = cluster.node_of(CLIENT_ID).node
        assert server.proc.poll() is None, "the server kept running"
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.send_signal(signal.SIGCONT)
        gateway.stop()
        server.stop()
    return KillOutcome(
        queue_before,
        queue_after,
        node.node,
        node_after,
        backlog,
        killed_at,
        resumed_s,
        acked,
        stored_times(db_url, MUNI, SENSOR),
        gateway.published(),
        gateway.disconnects,
    )


def test_acknowledged_readings_survive_the_loss_of_the_sessions_node(
    tmp_path: Path, cluster: RabbitMQCluster
) -> None:
    got = kill_sessions_node(cluster, tmp_path)
    print(got.summary())
    nodes = sorted(n.node for n in cluster.nodes)
    assert got.queue_before["type"] == "quorum", got.queue_before
    assert sorted(got.queue_before["members"]) == nodes, got.queue_before
    assert got.queue_before["leader"] == got.node, "declared on CityOps's node, led from there"
    assert got.backlog > 0, "the kill must find readings acknowledged and not yet stored"
    assert got.resumed_s is not None, "no reading published after the kill was stored"
    assert got.node_after not in (None, got.node), "reconnected through haproxy elsewhere"
    assert got.queue_after is not None
    assert got.queue_after["leader"] not in (None, got.node), got.queue_after
    assert len(got.stored) == len(set(got.stored)), "a reading stored twice"
    assert set(got.stored) <= got.published
    if lost := got.lost():
        raise AcknowledgedLostError(f"{len(lost)} of {len(got.acked)} acknowledged lost: {lost}")


def wait_stored_after(db_url: str, gateway: Gateway, index: int, timeout: float) -> bool:
    """True once a reading the gateway published after its ``index``-th is stored."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = stored_times(db_url, MUNI, SENSOR)
        if any((ts - gateway.base).total_seconds() >= index for ts in stored):
            return True
        time.sleep(0.25)
    return False


def wait_all_stored(db_url: str, gateway: Gateway) -> set[datetime]:
    """What the gateway had acknowledged once done, after waiting (up to 30 s) for all of it
    to be stored."""
    assert gateway.done.wait(60), "the gateway could not publish everything"
    deadline = time.monotonic() + 30
    while len(gateway.acknowledged()) < gateway.total and time.monotonic() < deadline:
        time.sleep(0.2)
    acked = gateway.acknowledged()
    while time.monotonic() < deadline + 30:
        if acked <= set(stored_times(db_url, MUNI, SENSOR)):
            break
        time.sleep(0.5)
    return acked
