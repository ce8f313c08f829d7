"""What the leases carry beyond ownership (services/partitions.py, store/cluster_repo.py) on
PostgreSQL: a member's refused partition logins, as /health reads them, and the lock under which
`cityops mqtt sync` makes a never-claimed partition's session (no claim meanwhile)."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from cityops.services.partitions import LeaseSettings, PartitionManager, ensure, unclaimed
from cityops.store import cluster_repo
from tests.cluster.conftest import TOWNS
from tests.cluster.support import Recorder, wait_for

REFUSED = "partition login refused: not authorized"


def refused_now(db: Engine) -> dict[str, str]:
    with db.connect() as conn:
        return cluster_repo.session_errors(conn, TOWNS)


def test_refused_logins_are_shown_while_they_last_and_while_the_lease_runs(db: Engine) -> None:
    errors = {"town1": REFUSED, "town4": REFUSED}
    lease = LeaseSettings(lease_s=1.0, heartbeat_s=0.2)
    a = PartitionManager(db, "a", lambda: TOWNS, Recorder(), lease, lambda: dict(errors))
    a.step()
    assert refused_now(db) == {"town1": REFUSED, "town4": REFUSED}
    del errors["town1"]  # its session got in
    a.step()
    assert refused_now(db) == {"town4": REFUSED}
    # a goes silent: once its lease runs out (the database's clock), what it said no longer counts
    wait_for(lambda: refused_now(db) == {}, 30, "a's lease to run out")
    b = PartitionManager(db, "b", lambda: TOWNS, Recorder(), lease)
    b.step()  # a new claim starts clean
    assert b.held == dict.fromkeys(TOWNS, 2)
    assert refused_now(db) == {}
    with db.connect() as conn:
        assert cluster_repo.session_errors(conn, []) == {}


def test_a_claim_waits_while_a_never_claimed_partitions_session_is_made(db: Engine) -> None:
    ensure(db, TOWNS)
    claimed = threading.Event()

    def claim() -> None:
        with db.begin() as conn:
            if cluster_repo.claim(conn, "a", "town1", 10.0) is not None:
                claimed.set()

    with unclaimed(db, "town1") as free:
        assert free
        thread = threading.Thread(target=claim)
        thread.start()
        time.sleep(0.5)
        assert not claimed.is_set(), "the claim must wait for the seeding session to end"
    thread.join(5)
    assert claimed.is_set()
    with unclaimed(db, "town1") as free:
        assert not free, "a claimed partition's session is its member's: never seeded"
    with unclaimed(db, "town2") as free:
        assert free
