"""Partition hand-over between `cityops ingest` processes on Mosquitto and PostgreSQL (issue 11):
a QoS 1 publisher sends threshold episodes for six municipalities while ingest processes are
SIGKILLed; every reading the broker acknowledged must be stored exactly once, and each episode
raise and clear its sensor's incident exactly once (rule state handed over through the
database, nothing lost or counted twice)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.store import cluster_repo
from tests.cluster.conftest import TOWNS
from tests.cluster.support import (
    Member,
    Publisher,
    balanced,
    check_exactly_once,
    owners,
    wait_for,
    wait_until_stored,
)
from tests.harness import MosquittoServer

pytestmark = pytest.mark.timeout(150)


def epochs_of(db: Engine) -> dict[str, int]:
    with db.connect() as conn:
        return {p.municipality: p.epoch for p in cluster_repo.partitions(conn)}


@pytest.fixture
def members(
    cluster_db: str, cluster_broker: MosquittoServer, tmp_path: Path
) -> Iterator[list[Member]]:
    prefix = f"t{uuid.uuid4().hex[:8]}"  # sessions of their own on the shared broker
    made = [
        Member(f"m{i}", cluster_db, cluster_broker.url, tmp_path / f"m{i}", prefix)
        for i in range(3)
    ]
    yield made
    for m in made:
        m.stop()


def test_a_killed_members_partitions_go_to_the_survivors_exactly_once(
    db: Engine, members: list[Member], cluster_broker: MosquittoServer
) -> None:
    for m in members:
        m.start()
    names = [m.name for m in members]
    wait_for(lambda: balanced(db, names, TOWNS), 45, "three members holding two towns each")
    publisher = Publisher(cluster_broker.port, TOWNS, episodes=5, rate=150)
    victim = members[0]
    try:
        publisher.start()
        time.sleep(3.0)  # mid-stream: readings acknowledged by the broker, not all stored
        lost = {m for m, o in owners(db).items() if o == victim.name}
        epochs = epochs_of(db)
        victim.kill()
        killed_at = time.monotonic()
        survivors = [m.name for m in members[1:]]
        wait_for(lambda: balanced(db, survivors, TOWNS), 30, "the survivors to take over")
        handover_s = time.monotonic() - killed_at
        print(f"hand-over after SIGKILL: {handover_s:.1f} s (lease 3 s, heartbeat 0.5 s)")
        wait_until_stored(db, publisher, 60)
    finally:
        publisher.stop()
    assert lost, "the killed member held partitions"
    now = owners(db)
    assert {now[m] for m in lost} <= set(survivors), now
    # taken by a claim after the lease ran out (a new epoch each), however long a loaded
    # machine took: the time is printed, not asserted (the bound above is only a bound)
    assert all(epochs_of(db)[m] > epochs[m] for m in lost), (epochs, epochs_of(db))
    check_exactly_once(db, publisher)
    for m in members[1:]:
        assert m.stop() == 0, m.log_tail()  # graceful: drained and released
    assert set(owners(db).values()) == {None}, "a graceful leave releases every partition"


def test_repeated_kills_and_restarts_keep_every_reading_once_and_rule_state_whole(
    db: Engine, members: list[Member], cluster_broker: MosquittoServer
) -> None:
    a, b = members[0], members[1]
    a.start()
    b.start()
    wait_for(lambda: balanced(db, ["m0", "m1"], TOWNS), 45, "two members holding three each")
    publisher = Publisher(cluster_broker.port, TOWNS, episodes=4, rate=150)
    try:
        publisher.start()
        for _ in range(2):
            time.sleep(2.5)
            a.kill()
            wait_for(lambda: set(owners(db).values()) == {"m1"}, 30, "m1 to hold everything")
            a.start()  # it joins again: m1 hands half back (drained, acknowledged)
            wait_for(lambda: balanced(db, ["m0", "m1"], TOWNS), 30, "m0 to get its share back")
        wait_until_stored(db, publisher, 60)
    finally:
        publisher.stop()
    check_exactly_once(db, publisher)
