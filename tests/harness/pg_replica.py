"""A PostgreSQL primary and a synchronous streaming-replication standby on loopback.

Plain Python (no pytest), built on :class:`tests.harness.servers.PostgresServer`::

    with ReplicatedPostgres() as pair:
        engine = make_engine(pair.url)  # both hosts, target_session_attrs=read-write
        ...
        pair.kill_primary()     # SIGKILL of the primary's whole process group
        pair.promote_standby()  # SELECT pg_promote(): the standby takes writes

The configuration is the one docs/HA.md documents as tested (``PRIMARY_SETTINGS``,
``STANDBY_SETTINGS``): durable on both servers (``fsync``, ``full_page_writes``), WAL for a
replica, a physical replication slot, and ``synchronous_commit = on`` with the standby named in
``synchronous_standby_names``: a COMMIT returns only once the standby has flushed its WAL, so
nothing a client was told is committed can be missing from the standby after the primary dies.

The standby is a ``pg_basebackup -R -C -S <slot> -X stream`` copy of the primary; it runs as a
hot standby (read-only queries) until promoted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Self

import psycopg

from .servers import (
    LOOPBACK,
    PostgresServer,
    Running,
    ServerStartError,
    _make_dir,
    find_postgres_bin,
    postgres_unavailable_reason,
    run_tool,
)

__all__ = [
    "PRIMARY_SETTINGS",
    "STANDBY_SETTINGS",
    "ReplicatedPostgres",
    "StandbyServer",
    "replica_unavailable_reason",
]

DURABLE = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
"""The harness's PostgresServer turns these off (throw-away data); a failover test needs them."""

PRIMARY_SETTINGS: Mapping[str, str] = {
    **DURABLE,
    "wal_level": "replica",
    "max_wal_senders": "5",
    "max_replication_slots": "5",
    "wal_sender_timeout": "10s",
}
"""Set at start; ``synchronous_standby_names`` follows once the standby streams (see below)."""

STANDBY_SETTINGS: Mapping[str, str] = {
    **DURABLE,
    "hot_standby": "on",
    "wal_receiver_status_interval": "1s",
    "wal_receiver_timeout": "10s",
}

STANDBY_NAME = "standby1"
"""The standby's ``application_name``, as ``synchronous_standby_names`` names it."""
SLOT = "standby1_slot"


def replica_unavailable_reason() -> str | None:
    """Why ReplicatedPostgres cannot run here, or None when it can."""
    if reason := postgres_unavailable_reason():
        return reason
    bin_dir = find_postgres_bin()
    if bin_dir is None or not os.access(bin_dir / "pg_basebackup", os.X_OK):
        return f"pg_basebackup not found next to initdb in {bin_dir}: a standby cannot be made"
    return None


class StandbyServer(PostgresServer):
    """A hot standby of ``primary``: ``pg_basebackup -R`` instead of initdb."""

    name = "postgresql-standby"

    def __init__(
        self,
        primary: PostgresServer,
        *,
        application_name: str = STANDBY_NAME,
        slot: str = SLOT,
        settings: Mapping[str, str] | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        super().__init__(
            database=primary.database,
            settings={**STANDBY_SETTINGS, **(settings or {})},
            start_timeout=start_timeout,
        )
        self.primary = primary
        self.application_name = application_name
        self.slot = slot

    def _prepare(self) -> Path:
        owner = self._owner()
        with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
            conn.execute(  # left by an earlier attempt (the port was taken): start afresh
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                "WHERE slot_name = %s",
                (self.slot,),
            )
        base = _make_dir("cityops-postgres-", owner)
        source = (
            f"host={self.primary.host} port={self.primary.port} user={self.user} "
            f"application_name={self.application_name}"
        )
        run_tool(
            [
                str(self.bin_dir / "pg_basebackup"),
                "--pgdata",
                str(base / "data"),
                "--dbname",
                source,
                "--wal-method=stream",
                "--write-recovery-conf",  # standby.signal + primary_conninfo
                "--create-slot",
                "--slot",
                self.slot,
                "--checkpoint=fast",
            ],
            base,
            owner,
        )
        return base

    def _after_start(self) -> None:
        """Nothing to create: the standby replays the primary's databases (read-only)."""

    def in_recovery(self) -> bool:
        """True while this server is a standby (``pg_is_in_recovery()``)."""
        with psycopg.connect(self.conninfo("postgres"), connect_timeout=5) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        return bool(row and row[0])

    def promote(self, timeout: int = 30) -> None:
        """``SELECT pg_promote()``: end recovery; return once the server takes writes."""
        with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
            row = conn.execute("SELECT pg_promote(true, %s)", (timeout,)).fetchone()
        if not (row and row[0]):
            raise ServerStartError(f"the standby was not promoted within {timeout}s")


class ReplicatedPostgres(Running):
    """A primary and its standby; ``url`` names both (libpq multi-host).

    ``synchronous=False`` leaves ``synchronous_standby_names`` empty: an asynchronous standby,
    to show what it loses."""

    def __init__(self, *, synchronous: bool = True, start_timeout: float = 60.0) -> None:
        self.synchronous = synchronous
        self.primary = PostgresServer(settings=PRIMARY_SETTINGS, start_timeout=start_timeout)
        self.standby = StandbyServer(self.primary, start_timeout=start_timeout)

    @property
    def url(self) -> str:
        """SQLAlchemy URL naming both servers, primary first, that connects only to the one
        that takes writes (``target_session_attrs=read-write``)."""
        hosts = "&".join(f"host={s.host}:{s.port}" for s in (self.primary, self.standby))
        db = self.primary.database
        return f"postgresql+psycopg://{self.primary.user}@/{db}?{hosts}&target_session_attrs=read-write"

    def start(self, sync_timeout: float = 30.0) -> Self:
        """Start the primary, copy it into the standby, start that, then make it synchronous
        (``synchronous_standby_names``) and wait until the primary reports it so."""
        try:
            self.primary.start()
            self.standby.start()
            if self.synchronous:
                with psycopg.connect(self.primary.conninfo("postgres"), autocommit=True) as conn:
                    conn.execute(
                        f"ALTER SYSTEM SET synchronous_standby_names = '\"{STANDBY_NAME}\"'"
                    )
                    conn.execute("SELECT pg_reload_conf()")
            self.wait_sync(sync_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def replication_state(self) -> tuple[str, str] | None:
        """(state, sync_state) of the standby as the primary sees it, or None."""
        with psycopg.connect(self.primary.conninfo("postgres"), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = %s",
                (STANDBY_NAME,),
            ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))

    def wait_sync(self, timeout: float = 30.0) -> None:
        """Wait until the standby streams (as the synchronous standby unless asynchronous)."""
        wanted = ("streaming", "sync" if self.synchronous else "async")
        deadline = time.monotonic() + timeout
        while (state := self.replication_state()) != wanted:
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"the standby is not {wanted} after {timeout:.0f}s "
                    f"({state}):\n{self.standby.log_text()}"
                )
            time.sleep(0.1)

    @contextlib.contextmanager
    def wal_sender_paused(self) -> Iterator[None]:
        """SIGSTOP the primary's WAL sender for the standby (SIGCONT on leaving, if the primary
        still runs): WAL the primary writes meanwhile does not leave it, as when the network
        to the standby is slow or cut."""
        with psycopg.connect(self.primary.conninfo("postgres"), connect_timeout=5) as conn:
            row = conn.execute(
                "SELECT pid FROM pg_stat_replication WHERE application_name = %s", (STANDBY_NAME,)
            ).fetchone()
        if row is None:
            raise RuntimeError("the standby is not connected: no WAL sender to pause")
        pid = int(row[0])
        os.kill(pid, signal.SIGSTOP)
        try:
            yield
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def kill_primary(self, timeout: float = 10.0) -> None:
        """SIGKILL the primary's postmaster and every one of its processes at once, as a machine
        that dies would: nothing is flushed, sent or handed over. Each PostgreSQL child leads a
        session of its own (``setsid``), so killing the postmaster's process group is not
        enough: all are frozen (SIGSTOP) first, then killed."""
        pid = self.primary.pid
        if pid is None:
            raise RuntimeError("the primary is not running")
        family = [pid, *_children(pid)]
        for each in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGSTOP)
        for each in [pid, *_children(pid)]:  # and any the postmaster forked meanwhile
            with contextlib.suppress(ProcessLookupError):
                os.kill(each, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while self.primary.running or any(_alive(each) for each in family):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the primary (pid {pid}) survived SIGKILL")
            time.sleep(0.02)

    def promote_standby(self, timeout: int = 30) -> None:
        """Promote the standby (what Patroni or an operator does; never CityOps)."""
        self.standby.promote(timeout)

    def stop(self) -> None:
        self.standby.stop()
        self.primary.stop()

    def __repr__(self) -> str:
        return f"<ReplicatedPostgres primary={self.primary!r} standby={self.standby!r} {LOOPBACK}>"


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces, so split after its ")"
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
