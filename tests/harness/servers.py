"""Real Mosquitto and PostgreSQL servers on loopback ports, for tests and benchmarks.

Plain Python (no pytest): ``tests/conftest.py`` wraps these classes in fixtures, and ``bench/``
scripts can use them directly::

    from tests.harness import MosquittoServer, PostgresServer

    with MosquittoServer() as broker, PostgresServer() as pg:
        run_benchmark(mqtt_url=broker.url, database_url=pg.url)

Every server gets its own temporary directory (configuration, data, logs) under /tmp, listens on
127.0.0.1 only, and runs in its own process session. ``stop()`` (also called by ``__exit__`` and,
as a last resort, at interpreter exit) shuts it down gracefully, kills what is left of it and
removes the directory. The servers are also started under ``setpriv --pdeathsig`` where
available, so they shut down when the thread that started them dies (even by SIGKILL) and never
outlive the test run.

When run as root, Mosquitto runs as the ``mosquitto`` user and PostgreSQL as the ``postgres``
user (PostgreSQL refuses to run as root); otherwise both run as the current user.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as mqtt
import psycopg
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode
from psycopg import sql

__all__ = [
    "LOOPBACK",
    "MosquittoServer",
    "PostgresServer",
    "ServerStartError",
    "ServerUnavailableError",
    "find_mosquitto",
    "find_postgres_bin",
    "free_port",
    "mosquitto_unavailable_reason",
    "postgres_unavailable_reason",
]

LOOPBACK = "127.0.0.1"

MOSQUITTO_MISSING = "mosquitto not installed: run `make test` as root or apt-get install mosquitto"
POSTGRES_MISSING = (
    "PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb): "
    "run `make test` as root or apt-get install postgresql"
)


class ServerUnavailableError(RuntimeError):
    """The server's binaries (or the OS user it must run as) are missing on this machine."""


class ServerStartError(RuntimeError):
    """The server was found but did not start; the message carries the end of its log."""


# --------------------------------------------------------------------------------------------
# Helpers


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def find_mosquitto() -> str | None:
    """Path of the mosquitto broker binary, or None."""
    found = shutil.which("mosquitto")
    if found:
        return found
    for candidate in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"):
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _version_key(path: Path) -> tuple[int, ...]:
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts)


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and postgres, or None.

    ``CITYOPS_PG_BIN`` overrides the search (a directory holding initdb and postgres).
    """
    override = os.environ.get("CITYOPS_PG_BIN")
    candidates = (
        [Path(override)]
        if override
        else sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    )
    for bin_dir in candidates:
        if all(os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return bin_dir
    return None


def _is_root() -> bool:
    return os.geteuid() == 0


def _os_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def mosquitto_unavailable_reason() -> str | None:
    """Why MosquittoServer cannot run here, or None when it can."""
    return None if find_mosquitto() else MOSQUITTO_MISSING


def postgres_unavailable_reason() -> str | None:
    """Why PostgresServer cannot run here, or None when it can."""
    if find_postgres_bin() is None:
        return POSTGRES_MISSING
    if _is_root() and _os_user("postgres") is None:
        return (
            "running as root but there is no `postgres` OS user to run PostgreSQL as "
            "(PostgreSQL refuses to run as root): apt-get install postgresql creates it"
        )
    return None


_OWNER_FILE = "harness.pid"  # pid of the process that made a server directory


def _make_dir(prefix: str, owner: pwd.struct_passwd | None) -> Path:
    """A fresh directory under /tmp, mode 0755, owned by ``owner`` when given (root only).

    First removes the directories of earlier runs whose process died without cleaning up.
    """
    parent = Path("/tmp") if owner else Path(tempfile.gettempdir())
    _sweep_stale(parent, prefix)
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (base / _OWNER_FILE).write_text(f"{os.getpid()}\n")
    base.chmod(0o755)
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    return base


def _sweep_stale(parent: Path, prefix: str) -> None:
    for old in parent.glob(f"{prefix}*"):
        try:
            pid = int((old / _OWNER_FILE).read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)  # its process is gone (its servers too)
        except (OSError, ValueError):
            continue  # not ours to judge


def _run_as(owner: pwd.struct_passwd | None) -> dict[str, Any]:
    """Popen keyword arguments that run the child as ``owner`` (setuid in the child, no shell)."""
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _child_env(home: Path) -> dict[str, str]:
    """The environment of a server process: ours, minus libpq settings, in the C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=str(home), LC_ALL="C", LANG="C")
    return env


def _pdeathsig_prefix(signame: str) -> list[str]:
    """``setpriv --pdeathsig <SIG> --``: the server gets SIGNAME if the thread that started it
    dies, so a SIGKILLed test run leaves no server behind (setpriv is in util-linux)."""
    setpriv = _setpriv_with_pdeathsig()
    return [setpriv, "--pdeathsig", signame, "--"] if setpriv else []


@functools.cache
def _setpriv_with_pdeathsig() -> str | None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    try:
        help_text = subprocess.run(
            [setpriv, "--help"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return setpriv if "--pdeathsig" in help_text else None


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def _stop_process(proc: subprocess.Popen[bytes], first: signal.Signals, timeout: float) -> None:
    """Send ``first`` and wait up to ``timeout``; then SIGKILL the whole process group."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(first)
    try:
        proc.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    # The server leads its own process group (start_new_session): kill all of it (PostgreSQL
    # backends included), then reap the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


class _Server:
    """Shared lifecycle: temp dir, process, graceful stop, cleanup at exit."""

    name = "server"
    stop_signal = signal.SIGTERM  # graceful shutdown
    pdeath_signal = "TERM"  # sent by the kernel if the starting thread dies

    def __init__(self, port: int | None, start_timeout: float) -> None:
        self.host = LOOPBACK
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.start_timeout = start_timeout
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- public API --------------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        """The server's temporary directory (config, data, logs); removed by stop()."""
        if self._base is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._base

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    def log_text(self) -> str:
        """The end of the server's log (for assertion messages)."""
        return _tail(self.log_path)

    def start(self) -> Self:
        """Start the server; return when it accepts real client connections."""
        if self.running:
            return self
        for attempt in range(3):
            self._base = self._prepare()
            _live.add(self)
            try:
                self._launch()
            except ServerStartError as exc:
                self.stop()
                port_taken = "address already in use" in str(exc).lower()
                if self._fixed_port or not port_taken or attempt == 2:
                    raise
                self.port = free_port()  # taken between free_port() and bind: try another
            except BaseException:
                self.stop()
                raise
            else:
                return self
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Shut the server down (gracefully, SIGKILL after a timeout) and remove its directory."""
        self._terminate()
        self._remove_dir()
        _live.discard(self)

    def restart(self) -> None:
        """Stop the server gracefully and start it again: same port, same data directory."""
        if self._base is None:
            raise RuntimeError(f"{self.name} is not started")
        self._terminate()
        self._launch()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    # -- for subclasses ----------------------------------------------------------------------

    def _prepare(self) -> Path:
        """Create the temporary directory and whatever must exist before the first launch."""
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _owner(self) -> pwd.struct_passwd | None:
        raise NotImplementedError

    def _ready(self) -> bool:
        """True once the server answers a real client request."""
        raise NotImplementedError

    def _after_start(self) -> None:
        """Hook run once the server is ready (first start and restarts)."""

    # -- internals ---------------------------------------------------------------------------

    def _launch(self) -> None:
        base = self.base_dir
        owner = self._owner()
        with open(base / "stdout.log", "ab") as out:
            self._proc = subprocess.Popen(
                [*_pdeathsig_prefix(self.pdeath_signal), *self._command()],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=base,
                env=_child_env(base),
                start_new_session=True,
                **_run_as(owner),
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with status {self._proc.returncode} while starting "
                    f"on {self.host}:{self.port}:\n{self._read_all_logs()}"
                )
            if self._ready():
                break
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{self.name} did not accept connections on {self.host}:{self.port} within "
                    f"{self.start_timeout:.0f}s:\n{self._read_all_logs()}"
                )
            time.sleep(0.05)
        self._after_start()

    def _read_all_logs(self) -> str:
        if self._base is None:
            return ""
        parts = [_tail(self._base / "stdout.log"), _tail(self._base / "server.log")]
        return "\n".join(p for p in parts if p.strip()) or "(no log output)"

    def _terminate(self) -> None:
        if self._proc is not None:
            _stop_process(self._proc, self.stop_signal, timeout=15)
            self._proc = None

    def _remove_dir(self) -> None:
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None


_live: set[_Server] = set()  # started and not stopped yet


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


# --------------------------------------------------------------------------------------------
# Mosquitto


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
# PostgreSQL

_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresServer(_Server):
    """A throwaway PostgreSQL server on 127.0.0.1 with database ``cityops_test``.

    initdb runs once per instance (about a second); durability is off (fsync,
    synchronous_commit, full_page_writes) since the data is discarded, unless ``durable=True``
    (all three on, as in production: for benchmarks that must pay for the disk); every local
    and loopback connection is trusted, as superuser ``postgres``. ``settings`` adds ``-c
    name=value`` server settings (and overrides the above).
    """

    name = "postgresql"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients to disconnect
    pdeath_signal = "INT"
    user = "postgres"

    def __init__(
        self,
        port: int | None = None,
        *,
        database: str = "cityops_test",
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
        durable: bool = False,
    ) -> None:
        reason = postgres_unavailable_reason()
        bin_dir = find_postgres_bin()
        if reason is not None or bin_dir is None:
            raise ServerUnavailableError(reason or POSTGRES_MISSING)
        super().__init__(port, start_timeout)
        self.bin_dir = bin_dir
        self.database = _check_db_name(database)
        self.settings = dict(settings or {})
        self.durable = durable
        """fsync, synchronous_commit and full_page_writes on (off by default)."""
        self._created_main = False

    @property
    def url(self) -> str:
        """``postgresql+psycopg://postgres@127.0.0.1:<port>/cityops_test`` (SQLAlchemy URL)."""
        return self.url_for(self.database)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def url_for(self, database: str) -> str:
        """SQLAlchemy URL of another database on this server."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def conninfo(self, database: str | None = None) -> str:
        """libpq connection string (for psycopg.connect, psql)."""
        db = database or self.database
        return f"host={self.host} port={self.port} user={self.user} dbname={db}"

    def create_database(self, name: str | None = None) -> str:
        """Create an empty database (named ``name``, or a fresh unique name); return its URL."""
        db = _check_db_name(name or f"t_{uuid.uuid4().hex[:16]}")
        self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        return self.url_for(db)

    def drop_database(self, name: str) -> None:
        """Drop a database, disconnecting its clients first; no error if it does not exist."""
        db = _check_db_name(name)
        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))

    def _admin(self, statement: sql.Composed) -> None:
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(statement)

    def _owner(self) -> pwd.struct_passwd | None:
        return _os_user("postgres") if _is_root() else None

    def _prepare(self) -> Path:
        base = _make_dir("cityops-postgres-", self._owner())
        result = subprocess.run(
            [
                str(self.bin_dir / "initdb"),
                "--pgdata",
                str(base / "data"),
                "--username",
                self.user,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                "--no-instructions",
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            cwd=base,
            env=_child_env(base),
            timeout=120,
            check=False,
            **_run_as(self._owner()),
        )
        if result.returncode != 0:
            shutil.rmtree(base, ignore_errors=True)
            raise ServerStartError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
        self._created_main = False
        return base

    def _command(self) -> list[str]:
        durability = "on" if self.durable else "off"
        settings = {
            "listen_addresses": self.host,
            "port": str(self.port),
            "unix_socket_directories": str(self.base_dir),
            "fsync": durability,
            "synchronous_commit": durability,
            "full_page_writes": durability,
            "max_connections": "200",
            "logging_collector": "off",
            "log_destination": "stderr",
            "log_min_messages": "warning",
            **self.settings,
        }
        cmd = [str(self.bin_dir / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            cmd += ["-c", f"{key}={value}"]
        return cmd

    def _ready(self) -> bool:
        try:
            with psycopg.connect(self.conninfo("postgres"), connect_timeout=2) as conn:
                conn.execute("SELECT 1")
        except psycopg.OperationalError:
            return False
        return True

    def _after_start(self) -> None:
        if not self._created_main:
            self._admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.database)))
            self._created_main = True

    @property
    def log_path(self) -> Path:
        return self.base_dir / "stdout.log"


def _check_db_name(name: str) -> str:
    if not _DB_NAME.fullmatch(name):
        raise ValueError(
            f"database name {name!r}: use lower-case letters, digits and _ (max 63 characters)"
        )
    return name
