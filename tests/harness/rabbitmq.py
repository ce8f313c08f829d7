"""A RabbitMQ cluster (three nodes by default) with its MQTT plugin, behind one haproxy address,
on loopback ports (servers.py; docs/HA.md "Clustered broker").

Debian 12's rabbitmq-server 3.10 and haproxy 2.6. Every node runs as the current user from
``/usr/lib/rabbitmq/bin/rabbitmq-server`` (not Debian's wrapper, which runs the packaged node)
with its own name, ports, directories and configuration, a cookie shared through ``HOME``, an
epmd of the cluster's own on a free port (so nothing outlives the cluster), and Erlang's
schedulers tamed for a small machine. The nodes are joined with ``rabbitmqctl join_cluster``;
haproxy forwards one MQTT address to the nodes in TCP mode with health checks.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Self

from .mosquitto import _mqtt_connects
from .process import (
    LOOPBACK,
    Running,
    ServerStartError,
    ServerUnavailableError,
    _child_env,
    _make_dir,
    free_port,
)
from .server_base import _Server

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
RABBITMQ_MISSING = (
    "rabbitmq-server not installed (no /usr/lib/rabbitmq/bin/rabbitmq-server or no epmd): "
    "run `make test` as root or apt-get install rabbitmq-server"
)
HAPROXY_MISSING = "haproxy not installed: run `make test` as root or apt-get install haproxy"
TAME_ERL_ARGS = "+S 1:1 +sbwt none +sbwtdcpu none +sbwtdio none"
"""One scheduler per node and no busy waiting: three nodes share a 2-core machine."""


def find_haproxy() -> str | None:
    found = shutil.which("haproxy")
    return found or ("/usr/sbin/haproxy" if os.access("/usr/sbin/haproxy", os.X_OK) else None)


def find_epmd() -> str | None:
    found = shutil.which("epmd")
    candidates = sorted(Path("/usr/lib/erlang").glob("erts-*/bin/epmd"), reverse=True)
    return found or next((str(p) for p in candidates if os.access(p, os.X_OK)), None)


def rabbitmq_unavailable_reason() -> str | None:
    """Why RabbitMQCluster cannot run here, or None when it can."""
    tools = ("rabbitmq-server", "rabbitmqctl")
    if not all(os.access(RABBITMQ_BIN / tool, os.X_OK) for tool in tools) or not find_epmd():
        return RABBITMQ_MISSING
    return None if find_haproxy() else HAPROXY_MISSING


def node_config(mqtt_port: int, queue_type: str, prefetch: int) -> str:
    """A node's rabbitmq.conf (the MQTT settings are docs/HA.md's)."""
    return "\n".join(
        [
            f"mqtt.listeners.tcp.default = {LOOPBACK}:{mqtt_port}",
            f"mqtt.durable_queue_type = {queue_type}",
            f"mqtt.prefetch = {prefetch}",
            "mqtt.subscription_ttl = 604800000",  # 7 days, CityOps's MQTT 5 session expiry
            "mqtt.allow_anonymous = true",  # as guest: the test harness's brokers are anonymous
            "cluster_partition_handling = pause_minority",
            "log.file.level = info",
            "log.console = false",
            "",
        ]
    )


def haproxy_config(port: int, backends: list[int]) -> str:
    """haproxy.cfg: TCP mode, a node checked every 500 ms and out after two failed connects;
    the sessions through a node marked down are cut (``on-marked-down shutdown-sessions``), a
    connect that fails is tried on another node (``retries``, ``redispatch``); ``timeout
    client/server`` exceed the MQTT keepalive (CityOps: 30 s)."""
    servers = [f"    server node{i} {LOOPBACK}:{p}" for i, p in enumerate(backends, 1)]
    return "\n".join(
        [
            "global",
            "    maxconn 512",
            "    nbthread 1",
            "    log stdout format raw local0 info",
            "defaults",
            "    mode tcp",
            "    log global",
            "    option tcplog",
            "    timeout connect 1s",
            "    timeout client 120s",
            "    timeout server 120s",
            "    timeout check 1s",
            "    retries 3",
            "    option redispatch",
            "frontend mqtt",
            f"    bind {LOOPBACK}:{port}",
            "    default_backend rabbitmq_mqtt",
            "backend rabbitmq_mqtt",
            "    balance roundrobin",
            "    default-server check inter 500ms fall 2 rise 2 on-marked-down shutdown-sessions",
            *servers,
            "",
        ]
    )


class _Epmd(_Server):
    """The Erlang port mapper of one cluster, on a free loopback port."""

    name = "epmd"

    def __init__(self) -> None:
        binary = find_epmd()
        if binary is None:
            raise ServerUnavailableError(RABBITMQ_MISSING)
        super().__init__(None, 10.0)
        self.binary = binary

    def _owner(self) -> None:
        return None

    def _prepare(self) -> Path:
        return _make_dir("cityops-epmd-", None)

    def _command(self) -> list[str]:
        return [self.binary, "-port", str(self.port), "-address", LOOPBACK]

    def _ready(self) -> bool:
        with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 0.5):
            return True
        return False


class RabbitNode(_Server):
    """One RabbitMQ node; ``port`` is its MQTT listener."""

    name = "rabbitmq"

    def __init__(self, name: str, epmd_port: int, cookie: str, queue_type: str, prefetch: int):
        super().__init__(None, 90.0)
        self.node = f"{name}@localhost"
        self.epmd_port, self.cookie = epmd_port, cookie
        self.queue_type, self.prefetch = queue_type, prefetch
        self.amqp_port, self.dist_port = free_port(), free_port()

    def _owner(self) -> None:
        return None

    def _prepare(self) -> Path:
        base = _make_dir("cityops-rabbitmq-", None)
        cookie = base / ".erlang.cookie"  # HOME is base: the nodes' and rabbitmqctl's cookie
        cookie.write_text(self.cookie)
        cookie.chmod(0o400)
        (base / "rabbitmq.conf").write_text(node_config(self.port, self.queue_type, self.prefetch))
        (base / "enabled_plugins").write_text("[rabbitmq_mqtt].\n")
        (base / "rabbitmq-env.conf").write_text("")  # not Debian's /etc/rabbitmq one
        return base

    def env(self) -> dict[str, str]:
        """What rabbitmq-server and rabbitmqctl need beyond ``_child_env``."""
        base = self.base_dir
        return {
            "ERL_EPMD_PORT": str(self.epmd_port),
            "RABBITMQ_CONF_ENV_FILE": str(base / "rabbitmq-env.conf"),
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": LOOPBACK,
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(base / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_LOGS": str(base / "server.log"),
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": TAME_ERL_ARGS,
            "RUNNING_UNDER_SYSTEMD": "true",  # the script execs the VM: our pid is the node's
        }

    def _command(self) -> list[str]:
        assigns = [f"{k}={v}" for k, v in self.env().items()]
        return ["env", *assigns, str(RABBITMQ_BIN / "rabbitmq-server")]

    def _ready(self) -> bool:
        return _mqtt_connects(self.host, self.port, timeout=1.0)

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self._proc is None or self._proc.poll() is not None or time.monotonic() > deadline:
                raise ServerStartError(f"{self.node} not ready:\n{self._read_all_logs()}")
            time.sleep(0.2)

    def ctl(self, *args: str, timeout: float = 120.0) -> str:
        """``rabbitmqctl -n <this node> ARGS``; its standard output."""
        cli_port = str(free_port())  # the CLI's own distribution port
        env = {**_child_env(self.base_dir), **self.env()}
        env.update(RABBITMQ_CTL_DIST_PORT_MIN=cli_port, RABBITMQ_CTL_DIST_PORT_MAX=cli_port)
        argv = [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node, *args]
        done = subprocess.run(
            argv,
            env=env,
            cwd=self.base_dir,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv[1:])}: {done.returncode}\n{done.stderr}")
        return done.stdout

    def kill(self) -> None:
        """SIGKILL the node's VM and its helpers (a machine lost, as far as the others see)."""
        if self._proc is not None and self._proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._proc.pid, signal.SIGKILL)
            self._proc.wait(10)


class _Haproxy(_Server):
    """haproxy in TCP mode: one MQTT address over the nodes' MQTT listeners."""

    name = "haproxy"

    def __init__(self, backends: list[int]) -> None:
        binary = find_haproxy()
        if binary is None:
            raise ServerUnavailableError(HAPROXY_MISSING)
        super().__init__(None, 30.0)
        self.binary, self.backends = binary, backends

    def _owner(self) -> None:
        return None

    def _prepare(self) -> Path:
        base = _make_dir("cityops-haproxy-", None)
        (base / "haproxy.cfg").write_text(haproxy_config(self.port, self.backends))
        return base

    def _command(self) -> list[str]:
        return [self.binary, "-db", "-f", str(self.base_dir / "haproxy.cfg")]

    def _ready(self) -> bool:
        return _mqtt_connects(self.host, self.port, timeout=1.0)


class RabbitMQCluster(Running):
    """``size`` nodes joined into one cluster, their MQTT plugin on, haproxy in front (``url``).

    ``queue_type``: ``mqtt.durable_queue_type``, what a persistent session's QoS 1 queue is
    (quorum: replicated on every node; classic: on the node where it was declared).
    """

    def __init__(self, size: int = 3, *, queue_type: str = "quorum", prefetch: int = 1000):
        if reason := rabbitmq_unavailable_reason():
            raise ServerUnavailableError(reason)
        self.size, self.queue_type, self.prefetch = size, queue_type, prefetch
        self.epmd: _Epmd | None = None
        self.nodes: list[RabbitNode] = []
        self.proxy: _Haproxy | None = None

    @property
    def url(self) -> str:
        assert self.proxy is not None, "not started"
        return f"mqtt://{LOOPBACK}:{self.proxy.port}"

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.epmd = _Epmd().start()
        cookie, tag = secrets.token_hex(16).upper(), secrets.token_hex(3)
        for i in range(1, self.size + 1):
            name = f"cityops-{tag}-{i}"
            self.nodes.append(
                RabbitNode(name, self.epmd.port, cookie, self.queue_type, self.prefetch)
            )
            self.nodes[-1].start()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.node)
            node.ctl("start_app")
            node.wait_ready()
        running = json.loads(first.ctl("cluster_status", "--formatter", "json"))
        if sorted(running["running_nodes"]) != sorted(n.node for n in self.nodes):
            raise ServerStartError(f"cluster not formed: {running}")
        self.proxy = _Haproxy([n.port for n in self.nodes]).start()

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
        for node in self.nodes:  # all told at once, then waited for
            if node._proc is not None and node._proc.poll() is None:
                node._proc.send_signal(signal.SIGTERM)
        for node in self.nodes:
            node.stop()
        if self.epmd is not None:
            self.epmd.stop()

    def alive(self) -> list[RabbitNode]:
        return [n for n in self.nodes if n.running]

    def node_of(self, client_id: str) -> RabbitNode:
        """The node holding the MQTT connection of ``client_id`` (by the port it came in on)."""
        rows = self.listing("list_mqtt_connections", "client_id", "conn_name")
        ports = [int(r["conn_name"].rsplit(":", 1)[1]) for r in rows if r["client_id"] == client_id]
        if len(ports) != 1:
            raise AssertionError(f"{client_id} connected {len(ports)} times: {rows}")
        return next(n for n in self.nodes if n.port == ports[0])

    def queues(self) -> dict[str, dict[str, Any]]:
        """Every queue by name: type, leader, members, online, messages."""
        items = ("name", "type", "leader", "members", "online", "messages")
        return {r["name"]: r for r in self.listing("list_queues", *items)}

    def listing(self, *args: str) -> list[dict[str, Any]]:
        """A rabbitmqctl listing, asked of a live node, as JSON rows."""
        out = self.alive()[0].ctl(*args, "--formatter", "json", "--silent")
        return list(json.loads(out))
