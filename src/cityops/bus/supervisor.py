"""Mosquitto started and supervised by CityOps: the embedded broker when Mosquitto is installed
(``CITYOPS_BROKER=auto|mosquitto``, docs/MQTT.md "Embedded broker").

The broker runs beside CityOps, not inside it, in a session of its own: when CityOps dies
(SIGKILL, a crash) Mosquitto keeps every reading it acknowledged, queued for the ingest's
persistent session, and keeps accepting new ones. A restarted CityOps finds it through the pid
file and adopts it (after checking that the process is that Mosquitto, on that configuration)
instead of starting a second one. A clean stop of CityOps stops it (Mosquitto saves its state).

While CityOps runs, a thread watches the broker: restarted when it dies (it reloads
``mosquitto.db``), and its password and ACL files regenerated from the database every
``refresh_s`` seconds when a credential changed, then SIGHUP (Mosquitto re-reads them and drops
clients whose credential is gone): the same 5 s bound as the amqtt broker's. With an ingest
secret the files also hold a user per municipality for `cityops ingest` members connecting to
this broker (docs/SCALING.md "Partition credentials"): a new municipality gets its user within
the same bound, and the broker session of each partition no member took yet is made then
(bus/partition_seed.py), so its readings are queued before a member takes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from cityops.bus.mosquitto import write_atomically
from cityops.bus.mosquitto_conf import (
    BrokerFiles,
    credential_files,
    internal_secret,
    internal_username,
    render_config,
)
from cityops.bus.partition_seed import seed_partitions
from cityops.services import devices
from cityops.services.partition_users import PartitionUser, partition_users

log = logging.getLogger(__name__)


def embedded_kind(mode: str, binary: str | None) -> Literal["mosquitto", "amqtt"]:
    """Which embedded broker ``CITYOPS_BROKER=mode`` means with ``binary`` (None: Mosquitto is
    not installed): auto is Mosquitto when installed; asking for Mosquitto without it fails."""
    if mode == "amqtt":
        return "amqtt"
    if binary is not None:
        return "mosquitto"
    if mode == "mosquitto":
        raise RuntimeError(
            "CITYOPS_BROKER=mosquitto but no mosquitto binary was found (install Debian's "
            "mosquitto package, or set CITYOPS_MOSQUITTO_BIN)"
        )
    log.warning(
        "Mosquitto is not installed: the embedded broker is amqtt, which is slower and loses "
        "the readings it acknowledged but CityOps had not stored if CityOps is killed "
        "(docs/MQTT.md, Embedded broker)"
    )
    return "amqtt"


class SupervisedMosquitto:
    """A Mosquitto process for this data directory: started or adopted, watched, stopped."""

    def __init__(
        self,
        binary: str,
        root: Path,
        db: Engine | None,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        anonymous: bool = False,
        refresh_s: float = 5.0,
        ingest_secret: str | None = None,
        client_prefix: str = "cityops-ingest",
    ) -> None:
        self.binary = binary
        self.ingest_secret, self.client_prefix = ingest_secret, client_prefix
        """With a secret: a user per municipality for `cityops ingest` (docs/SCALING.md)."""
        self.files = BrokerFiles(root)
        self.db = db
        self.host = host
        self.port = port
        self.anonymous = anonymous
        self.refresh_s = refresh_s
        self.pid: int | None = None
        self.adopted = False
        """True when the broker was found running (started by an earlier CityOps)."""
        self.restarts = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._internal: dict[str, str] = {}  # username -> hash of this start's secret
        self._written = (self._read(self.files.passwd), self._read(self.files.acl))
        """What the credential files hold (as the broker last read them)."""
        self._partitions: list[PartitionUser] = []
        """The partition users of the last sync, whose sessions ``_seed`` makes."""
        self._sync_lock = threading.Lock()  # the watcher and add_internal
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.files.prepare()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def internal_name(self, role: str) -> str:
        """A stable username for CityOps's own ``role`` client (ingest, video)."""
        return internal_username(self.files, role)

    def add_internal(self, username: str) -> str:
        """The secret of one of CityOps's own clients (kept in the data directory; written to
        the password file at start, or at once when running)."""
        secret, digest = internal_secret(self.files, username)
        self._internal[username] = digest
        if self._watcher is not None:
            self.sync_credentials()
        return secret

    # -- start ------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> None:
        config = render_config(self.files, self.host, self.port, anonymous=self.anonymous)
        running = self._running_pid()
        same = running is not None and self._read(self.files.conf) == config
        if running is not None and not same:
            log.warning(
                "embedded Mosquitto (pid %d) runs an older configuration: restarting", running
            )
            self._terminate(running)
            running = None
        changed = self.sync_credentials(reload=False)
        if running is not None:
            self.pid, self.adopted = running, True
            if changed:  # credentials made or revoked while CityOps was down
                os.kill(running, signal.SIGHUP)
            log.info("embedded Mosquitto adopted (pid %d) on %s", running, self.url)
        else:
            write_atomically(self.files.conf, config)
            self._launch()
        self._wait_listening(timeout)
        self._seed()
        self._stop.clear()
        self._watcher = threading.Thread(target=self._watch, name="cityops-broker", daemon=True)
        self._watcher.start()

    def _launch(self) -> None:
        with self.files.log.open("ab") as out:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.files.conf)],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                start_new_session=True,  # outlives CityOps; a terminal's Ctrl-C is not for it
                close_fds=True,
            )
        write_atomically(self.files.pid, f"{self._proc.pid}\n")
        self.pid, self.adopted = self._proc.pid, False
        log.info("embedded Mosquitto started (pid %d) on %s", self._proc.pid, self.url)

    def _wait_listening(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise RuntimeError(f"embedded Mosquitto exited: {self._log_tail()}")
            with contextlib.suppress(OSError), socket.create_connection((self.host, self.port), 1):
                return
            time.sleep(0.05)
        raise RuntimeError(f"embedded Mosquitto did not listen on {self.url}: {self._log_tail()}")

    # -- which process --------------------------------------------------------------------

    def _running_pid(self) -> int | None:
        """The pid in the pid file when that process is alive and is Mosquitto on our
        configuration file (not a recycled pid); else any such process (one started just before
        CityOps died, its pid not yet written)."""
        text = self._read(self.files.pid).strip()
        if text.isdigit() and is_our_mosquitto(int(text), self.files.conf):
            return int(text)
        pids = (int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit())
        return next((pid for pid in pids if is_our_mosquitto(pid, self.files.conf)), None)

    def alive(self) -> bool:
        if self.pid is None:
            return False
        if self._proc is not None and self._proc.pid == self.pid:
            return self._proc.poll() is None
        return is_our_mosquitto(self.pid, self.files.conf)

    # -- watching ---------------------------------------------------------------------------

    def _watch(self) -> None:
        synced = time.monotonic()
        backoff = 0.5
        while not self._stop.wait(0.25):
            try:
                if not self.alive():
                    log.error("embedded Mosquitto (pid %s) died: restarting", self.pid)
                    self.restarts += 1
                    self._launch()
                    self._wait_listening(15.0)
                    backoff = 0.5
                if time.monotonic() - synced >= self.refresh_s:
                    synced = time.monotonic()
                    if self.sync_credentials():
                        self._seed()
            except Exception:  # the database or the broker for a moment: try again
                log.exception("embedded Mosquitto supervision failed; retrying")
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def sync_credentials(self, *, reload: bool = True) -> bool:
        """Rewrite the password and ACL files when the credentials changed; SIGHUP the broker
        (when ``reload``). True when they changed."""
        rows: list[devices.CredentialRow] = []
        users: list[PartitionUser] = []
        if self.db is not None:
            with self.db.connect() as conn:
                rows = list(devices.listed(conn))
                if self.ingest_secret is not None:
                    secret, prefix = self.ingest_secret, self.client_prefix
                    users = partition_users(conn, secret, prefix, rows)
        self._partitions = users
        with self._sync_lock:
            texts = credential_files(
                rows, self._internal, anonymous=self.anonymous, partitions=users
            )
            if texts == self._written:
                return False
            write_atomically(self.files.passwd, texts[0])
            write_atomically(self.files.acl, texts[1])
            self._written = texts
            if reload and self.alive() and self.pid is not None:
                os.kill(self.pid, signal.SIGHUP)
            return True

    def _seed(self) -> None:
        """Make the broker sessions of partitions no member took yet, as `cityops mqtt sync`
        does (bus/partition_seed.py): their readings are queued from now on."""
        if self.db is None or self.ingest_secret is None or not self._partitions:
            return
        try:  # a new user is refused until the broker has reloaded: retried a while
            seed_partitions(self.db, self.url, self.ingest_secret, self._partitions, retry_s=15)
        except Exception:
            log.exception("making new partitions' sessions failed; tried again at next change")

    # -- stop -------------------------------------------------------------------------------

    def stop(self, timeout: float = 10.0) -> None:
        """Stop watching and stop the broker (it saves its state on SIGTERM)."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join(5)
            self._watcher = None
        if self.pid is not None and self.alive():
            self._terminate(self.pid, timeout)
        with contextlib.suppress(FileNotFoundError):
            self.files.pid.unlink()
        self.pid = None

    def _terminate(self, pid: int, timeout: float = 10.0) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.pid == pid:
                if self._proc.poll() is not None:
                    return
            elif not is_our_mosquitto(pid, self.files.conf):
                return
            time.sleep(0.05)
        log.warning("embedded Mosquitto (pid %d) ignored SIGTERM: killing it", pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if self._proc is not None and self._proc.pid == pid:
            self._proc.wait(5)

    # -- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ""

    def _log_tail(self, limit: int = 2000) -> str:
        return self._read(self.files.log)[-limit:].strip() or "(no log)"


def is_our_mosquitto(pid: int, conf: Path) -> bool:
    """Process ``pid`` is alive (not a zombie) and is a mosquitto started on ``conf``."""
    proc = Path("/proc") / str(pid)
    try:
        argv = (proc / "cmdline").read_bytes().split(b"\0")
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    if state in ("Z", "X") or not argv or not argv[0]:
        return False
    return Path(os.fsdecode(argv[0])).name.startswith("mosquitto") and os.fsencode(conf) in argv
