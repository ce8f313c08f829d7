"""The lease logic of multi-process ingest (services/partitions.py, store/cluster_repo.py)
against PostgreSQL: claim, renew, expire, rebalance on join and leave, and the fence."""

from __future__ import annotations

import threading
import time

from sqlalchemy import Engine

from cityops.services.partitions import LeaseSettings, PartitionManager, fair_share
from cityops.store import cluster_repo
from tests.cluster.conftest import TOWNS
from tests.cluster.support import Recorder


def member(db: Engine, name: str, lease_s: float = 10.0) -> tuple[PartitionManager, Recorder]:
    target = Recorder()
    lease = LeaseSettings(lease_s=lease_s, heartbeat_s=0.2)
    return PartitionManager(db, name, lambda: TOWNS, target, lease), target


def owners(db: Engine) -> dict[str, str | None]:
    with db.connect() as conn:
        return {p.municipality: p.owner for p in cluster_repo.partitions(conn)}


def test_fair_share() -> None:
    assert [fair_share(6, n) for n in (0, 1, 2, 3, 4, 6, 7)] == [6, 6, 3, 2, 2, 1, 1]


def test_a_lone_member_claims_every_partition_with_a_new_epoch(db: Engine) -> None:
    a, target = member(db, "a")
    a.step()
    assert a.held == dict.fromkeys(TOWNS, 1)
    assert target.of("acquire") == set(TOWNS)
    assert set(owners(db).values()) == {"a"}


def test_renewal_moves_the_lease_forward_and_keeps_the_epoch(db: Engine) -> None:
    a, _ = member(db, "a")
    a.step()
    with db.connect() as conn:
        first = {p.municipality: p.lease_until for p in cluster_repo.partitions(conn)}
    time.sleep(0.05)
    a.step()
    with db.connect() as conn:
        rows = cluster_repo.partitions(conn)
    for p in rows:
        before = first[p.municipality]
        assert p.lease_until is not None
        assert before is not None
        assert p.lease_until > before
    assert {p.epoch for p in rows} == {1}


def test_a_member_that_joins_gets_its_share_from_a_release(db: Engine) -> None:
    a, ta = member(db, "a")
    b, tb = member(db, "b")
    a.step()
    b.step()  # everything is held and valid: nothing to claim yet
    assert b.held == {}
    a.step()  # two live members: a keeps 3, releases 3 (drained first, then freed)
    assert len(a.held) == 3
    assert len(ta.of("release")) == 3
    assert sum(1 for o in owners(db).values() if o is None) == 3
    b.step()
    assert len(b.held) == 3
    assert set(a.held).isdisjoint(b.held)
    assert set(b.held.values()) == {2}, "a claim increments the epoch"
    assert tb.of("acquire") == set(b.held)


def test_a_dead_members_partitions_are_taken_after_its_lease(db: Engine) -> None:
    a, _ = member(db, "a", lease_s=1.0)
    b, tb = member(db, "b", lease_s=1.0)
    a.step()
    b.step()
    assert b.held == {}
    time.sleep(1.3)  # a is silent (killed) for longer than its lease
    b.step()
    assert b.held == dict.fromkeys(TOWNS, 2)
    with db.connect() as conn:
        assert cluster_repo.live_members(conn, 1.0) == ["b"], "a was forgotten"
    assert tb.of("acquire") == set(TOWNS)


def test_a_zombie_learns_it_lost_and_its_fence_refuses_the_stale_epoch(db: Engine) -> None:
    a, ta = member(db, "a", lease_s=1.0)
    b, _ = member(db, "b", lease_s=1.0)
    a.step()
    time.sleep(1.3)
    b.step()
    with db.begin() as conn:  # a batch of the zombie: refused for every town
        assert a.violations(conn, {"town1", "town2"}) == ["town1", "town2"]
    with db.begin() as conn:
        assert b.violations(conn, {"town1", "town2"}) == []
    a.step()  # renewal fails: the epoch moved on
    assert a.held == {}
    assert ta.of("drop") == set(TOWNS)


def test_the_fence_refuses_an_expired_lease_even_before_anyone_claims(db: Engine) -> None:
    a, _ = member(db, "a", lease_s=0.5)
    a.step()
    time.sleep(0.7)
    with db.begin() as conn:
        assert a.violations(conn, {"town3"}) == ["town3"]
    a.step()  # nobody claimed meanwhile: the same epoch is renewed
    with db.begin() as conn:
        assert a.violations(conn, {"town3"}) == []


def test_a_claim_waits_for_the_batch_the_old_owner_has_in_flight(db: Engine) -> None:
    a, _ = member(db, "a", lease_s=1.0)
    a.step()
    conn = db.connect()
    tx = conn.begin()
    assert a.violations(conn, {"town1"}) == []  # the batch's fence: town1's row share-locked
    time.sleep(1.3)  # the lease runs out while the batch is still being written
    claimed = threading.Event()

    def claim() -> None:
        with db.begin() as other:
            if cluster_repo.claim(other, "b", "town1", 1.0) is not None:
                claimed.set()

    thread = threading.Thread(target=claim)
    thread.start()
    time.sleep(0.5)
    assert not claimed.is_set(), "the claim must wait for the batch's commit"
    tx.commit()
    conn.close()
    thread.join(5)
    assert claimed.is_set()


def test_a_graceful_leave_frees_everything_at_once(db: Engine) -> None:
    a, ta = member(db, "a")
    a.step()
    a.stop(leave=True)
    assert ta.of("release") == set(TOWNS)
    assert set(owners(db).values()) == {None}
    b, _ = member(db, "b")
    b.step()
    assert b.held == dict.fromkeys(TOWNS, 2)
