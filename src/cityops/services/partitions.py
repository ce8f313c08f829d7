"""Partitions of multi-process ingest: leases in the database (docs/SCALING.md).

A partition is one municipality. Every ``heartbeat_s`` each member (a ``cityops ingest``
process) says it is alive, renews the leases it holds, forgets members silent longer than a
lease, and balances: it claims free or expired partitions up to its fair share
(ceil(partitions / live members)) and releases what it holds beyond it, so that members that
joined get theirs. A claim increments the partition's epoch; the pipeline's fence refuses a
batch unless this member still owns each of its municipalities with the epoch it claimed.

What taking and giving up a partition means for the process (restore the rule state, connect
the partition's MQTT session; stop it, drain, disconnect) is the ``Partitions`` it is given."""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, Engine

from cityops.store import cluster_repo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LeaseSettings:
    lease_s: float = 10.0
    """How long a lease and a member's heartbeat count without renewal."""
    heartbeat_s: float = 2.0
    """How often a member heartbeats, renews and balances."""


class Partitions(Protocol):
    """What holding a partition means for the process."""

    def acquire(self, municipality: str) -> None:
        """Start consuming ``municipality`` (its rule state restored first)."""

    def release(self, municipality: str) -> None:
        """Stop consuming it; return once what was received is stored and acknowledged."""

    def drop(self, municipality: str) -> None:
        """Stop consuming it at once: another member owns it now."""


def ensure(db: Engine, municipalities: Iterable[str]) -> None:
    """A partition row (no owner, epoch 0) for each of ``municipalities`` without one."""
    with db.begin() as conn:
        cluster_repo.ensure_partitions(conn, municipalities)  # a transaction of its own


@contextmanager
def unclaimed(db: Engine, municipality: str) -> Iterator[bool]:
    """Whether no member ever claimed ``municipality`` (its row made by ``ensure``); while
    the block runs, its row stays locked and a member's claim of it waits. Keep it short: a
    waiting member renews none of its other leases meanwhile."""
    with db.begin() as conn:
        yield bool(cluster_repo.lock_never_claimed(conn, [municipality]))


def fair_share(partitions: int, members: int) -> int:
    return math.ceil(partitions / max(members, 1))


class PartitionManager:
    """This member's leases, kept on a thread of its own."""

    def __init__(
        self,
        db: Engine,
        member_id: str,
        municipalities: Callable[[], Iterable[str]],
        target: Partitions,
        lease: LeaseSettings = LeaseSettings(),
        login_errors: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self.db, self.member, self.lease = db, member_id, lease
        self._login_errors = login_errors
        """Partition -> why the broker refused its session's login: written to its row at
        each heartbeat, for the server's /health."""
        self._municipalities, self._target = municipalities, target
        self.held: dict[str, int] = {}
        """Municipality -> the epoch this member claimed it with."""
        self._lock = threading.Lock()  # held by a round; the fence reads a snapshot
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._renewed_at = time.monotonic()

    # -- one round ---------------------------------------------------------------------------
    def step(self) -> None:
        """Heartbeat, renew, forget the silent, then claim or release towards the fair share."""
        with self._lock:
            configured = sorted(set(self._municipalities()))
            members = self._beat(configured)
            for muni in sorted(set(self.held) - set(configured)):  # no longer configured
                self._release(muni)
                self._beat(configured)
            share = fair_share(len(configured), members)
            for muni in sorted(self.held)[share:]:
                self._release(muni)
                self._beat(configured)  # a drain may take a while: keep the others' leases
            if len(self.held) < share:
                with self.db.connect() as conn:
                    free = cluster_repo.claimable(conn, set(configured) - set(self.held))
                for muni in free[: share - len(self.held)]:
                    self._claim(muni)
                    self._beat(configured)

    def _beat(self, configured: list[str]) -> int:
        """Heartbeat, renew, forget the silent; drop what another member took. How many
        members are alive."""
        with self.db.begin() as conn:
            cluster_repo.ensure_partitions(conn, configured)
        with self.db.begin() as conn:
            cluster_repo.heartbeat(conn, self.member, socket.gethostname(), os.getpid())
            renewed = cluster_repo.renew(conn, self.member, self.held, self.lease.lease_s)
            errors = self._login_errors()
            faults = {m: errors.get(m) for m in renewed}
            cluster_repo.report_session_errors(conn, self.member, faults)
            gone = cluster_repo.forget_silent(conn, self.lease.lease_s)
            members = len(cluster_repo.live_members(conn, self.lease.lease_s))
        self._renewed_at = time.monotonic()
        if gone:
            log.info("ingest members gone silent: %s", ", ".join(gone))
        for muni in sorted(set(self.held) - renewed):
            log.warning("partition %s was taken over by another member", muni)
            del self.held[muni]
            self._target.drop(muni)
        return members

    def _claim(self, muni: str) -> None:
        with self.db.begin() as conn:
            epoch = cluster_repo.claim(conn, self.member, muni, self.lease.lease_s)
        if epoch is None:
            return  # another member was quicker
        self.held[muni] = epoch
        try:
            self._target.acquire(muni)
        except Exception:
            log.exception("could not start partition %s; giving it back", muni)
            self._release(muni)
            return
        log.info("partition %s claimed (epoch %d)", muni, epoch)

    def _release(self, muni: str) -> None:
        epoch = self.held[muni]
        try:
            self._target.release(muni)  # drained and acknowledged under our lease
        finally:
            del self.held[muni]
            with self.db.begin() as conn:
                cluster_repo.release(conn, self.member, muni, epoch)
        log.info("partition %s released (epoch %d)", muni, epoch)

    # -- the fence ---------------------------------------------------------------------------
    def violations(self, conn: Connection, municipalities: Iterable[str]) -> list[str]:
        """Inside a batch's transaction: the municipalities this member may not write for."""
        held = dict(self.held)
        return cluster_repo.fence_violations(conn, self.member, held, municipalities)

    def owns(self, municipality: str) -> bool:
        """Whether the database still gives this member ``municipality`` (now)."""
        epoch = self.held.get(municipality)
        if epoch is None:
            return False
        with self.db.connect() as conn:
            held = {municipality: epoch}
            return not cluster_repo.fence_violations(conn, self.member, held, [municipality])

    # -- the thread --------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="cityops-partitions", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:
                log.exception("partition round failed; will retry")
                self._self_fence()
            self._stop.wait(self.lease.heartbeat_s)

    def _self_fence(self) -> None:
        """Unable to renew for a whole lease: others may own our partitions by now."""
        if self.held and time.monotonic() - self._renewed_at > self.lease.lease_s:
            with self._lock:
                for muni in sorted(self.held):
                    log.warning("partition %s dropped: its lease could not be renewed", muni)
                    del self.held[muni]
                    self._target.drop(muni)

    def stop(self, *, leave: bool = True) -> None:
        """Stop the rounds; ``leave``: release every partition (drained, acknowledged) and
        leave the group, so the others take over within one heartbeat."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.lease.heartbeat_s + 60)
            self._thread = None
        if not leave:
            return
        with self._lock:
            for muni in sorted(self.held):
                try:
                    self._release(muni)
                except Exception:
                    log.exception("releasing partition %s failed; its lease will expire", muni)
            with self.db.begin() as conn:
                cluster_repo.leave(conn, self.member)
