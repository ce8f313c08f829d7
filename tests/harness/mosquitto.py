"""A real Mosquitto broker on a loopback port (servers.py)."""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from cityops.bus.mosquitto_conf import find_mosquitto

from .process import (
    MOSQUITTO_MISSING,
    ServerUnavailableError,
    _is_root,
    _make_dir,
    _os_user,
)
from .server_base import _Server


class MosquittoServer(_Server):
    """A Mosquitto broker on 127.0.0.1 configured never to drop QoS 1/2 messages silently.

    Config: anonymous access, ``persistence true`` (the session queues survive ``restart()``),
    ``max_queued_messages 0`` (unlimited queue for offline persistent sessions and slow
    subscribers; Mosquitto's default of 1,000 silently drops the rest), ``max_queued_bytes 0``,
    ``message_size_limit 0`` (any valid MQTT message, up to 256 MiB). ``max_inflight_messages``
    keeps its default (20): it is flow control, never a drop, and the queue above it is what
    the no-drop guarantee depends on.

    ``max_queued_messages`` may be lowered to reproduce the default broker's drops, and
    ``extra_config`` appends raw lines to mosquitto.conf.

    ``secured=True`` makes it a broker as docs/MQTT.md "Authentication and ACLs" sets one up:
    no anonymous clients, ``password_file`` and ``acl_file`` (``password_path``/``acl_path``,
    empty at first: fill them with ``cityops mqtt sync``, then ``reload()``) and
    ``use_username_as_clientid``; its pid is written to ``pid_path`` for the sync's SIGHUP.
    """

    name = "mosquitto"
    stop_signal = signal.SIGTERM  # Mosquitto saves its persistence file on SIGTERM
    pdeath_signal = "TERM"

    def __init__(
        self,
        port: int | None = None,
        *,
        max_queued_messages: int = 0,
        extra_config: Sequence[str] = (),
        start_timeout: float = 15.0,
        secured: bool = False,
    ) -> None:
        binary = find_mosquitto()
        if binary is None:
            raise ServerUnavailableError(MOSQUITTO_MISSING)
        super().__init__(port, start_timeout)
        self.binary = binary
        self.max_queued_messages = max_queued_messages
        self.extra_config = list(extra_config)
        self.secured = secured

    @property
    def url(self) -> str:
        """``mqtt://127.0.0.1:<port>``"""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.base_dir / "mosquitto.conf"

    @property
    def password_path(self) -> Path:
        """The secured broker's password file."""
        return self.base_dir / "cityops.passwd"

    @property
    def acl_path(self) -> Path:
        """The secured broker's ACL file."""
        return self.base_dir / "cityops.acl"

    @property
    def pid_path(self) -> Path:
        """A file holding the broker's pid while it runs (for ``cityops mqtt sync``)."""
        return self.base_dir / "mosquitto.pid"

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password and ACL files."""
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError("mosquitto is not running")
        self._proc.send_signal(signal.SIGHUP)

    def _owner(self) -> pwd.struct_passwd | None:
        # As root, run it as `mosquitto` from the start rather than letting it drop privileges
        # itself (a credential change would cancel the parent-death signal). Without that
        # user, stay root and tell mosquitto so (`user root`).
        return _os_user("mosquitto") if _is_root() else None

    def _prepare(self) -> Path:
        base = _make_dir("cityops-mosquitto-", self._owner())
        data = base / "data"
        data.mkdir(mode=0o755)
        owner = self._owner()
        if owner is not None:
            os.chown(data, owner.pw_uid, owner.pw_gid)
        lines = [
            "# Written by tests/harness/servers.py",
            f"listener {self.port} {self.host}",
            f"allow_anonymous {'false' if self.secured else 'true'}",
            "persistence true",
            f"persistence_location {data}/",  # 1.x needs the trailing slash
            f"max_queued_messages {self.max_queued_messages}",
            "max_queued_bytes 0",
            "message_size_limit 0",
            f"log_dest file {base / 'server.log'}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "log_type information",
            "connection_messages true",
            "log_timestamp_format %Y-%m-%dT%H:%M:%S",
        ]
        if _is_root() and owner is None:
            lines.append("user root")
        if self.secured:
            passwd, acl = base / "cityops.passwd", base / "cityops.acl"  # password_path, acl_path
            lines += [f"password_file {passwd}", f"acl_file {acl}", "use_username_as_clientid true"]
            for path in (passwd, acl):
                path.write_text("")
                path.chmod(0o640)
                if owner is not None:
                    os.chown(path, owner.pw_uid, owner.pw_gid)
        lines.extend(self.extra_config)
        config = base / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n")
        config.chmod(0o644)
        return base

    def _command(self) -> list[str]:
        return [self.binary, "-c", str(self.config_path)]

    def _ready(self) -> bool:
        # a secured broker refuses the anonymous probe: any CONNACK shows it is up
        return _mqtt_connects(self.host, self.port, timeout=0.5, refused_ok=self.secured)

    def _after_start(self) -> None:
        if self.secured and self.pid is not None:
            self.pid_path.write_text(f"{self.pid}\n")


def _mqtt_connects(host: str, port: int, timeout: float, *, refused_ok: bool = False) -> bool:
    """True when a real MQTT CONNECT to host:port gets a successful CONNACK (any CONNACK with
    ``refused_ok``)."""
    outcome: list[bool] = []

    def on_connect(
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        outcome.append(refused_ok or not reason_code.is_failure)

    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=f"harness-probe-{uuid.uuid4().hex[:12]}",
        protocol=mqtt.MQTTv311,
    )
    client.on_connect = on_connect
    try:
        client.connect(host, port, keepalive=10)
    except OSError:
        return False
    try:
        deadline = time.monotonic() + timeout
        while not outcome and time.monotonic() < deadline:
            if client.loop(timeout=0.05) != mqtt.MQTT_ERR_SUCCESS:
                break  # closed, possibly right after a refusing CONNACK
        return bool(outcome and outcome[0])
    finally:
        with contextlib.suppress(Exception):
            client.disconnect()  # writes DISCONNECT at once and closes the socket


# --------------------------------------------------------------------------------------------
