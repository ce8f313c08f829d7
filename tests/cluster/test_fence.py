"""The fence at work in a running `cityops ingest` member (in process): another member takes a
municipality over while readings of it and of a municipality the member keeps arrive together.
Every batch touching the lost one is refused (rolled back, unacknowledged); the partitions of a
refused batch are recycled, so the kept municipality's readings are delivered again and stored,
in order; the lost one's wait in its session for whoever holds it next."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from cityops.app import import_config
from cityops.app.ingest_role import IngestProcess
from cityops.bus.partitions import MemberPipeline, PartitionSessions
from cityops.domain.rules import ThresholdRule
from cityops.ingest.pipeline import FenceError
from cityops.services.partitions import LeaseSettings, PartitionManager
from cityops.settings import Settings
from tests.cluster.conftest import TOWNS
from tests.cluster.support import (
    Publisher,
    Recorder,
    check_exactly_once,
    owners,
    wait_for,
    wait_until_stored,
)
from tests.harness import MosquittoServer
from tests.town import neighbour_yaml

pytestmark = pytest.mark.timeout(150)


@pytest.fixture
def member(
    cluster_db: str, cluster_broker: MosquittoServer, tmp_path: Path
) -> Iterator[IngestProcess]:
    settings = Settings(
        data_dir=tmp_path,
        database_url=cluster_db,
        mqtt_url=cluster_broker.url,
        ingest_member_id="keeper",
        ingest_client_prefix=f"f{uuid.uuid4().hex[:8]}",
        ingest_lease_s=3.0,
        ingest_heartbeat_s=0.5,
        config_poll_s=0,
    )
    process = IngestProcess(settings)
    process.start()
    yield process
    process.stop()


def steal(db: Engine, municipality: str) -> None:
    """What another member's claim does (its lease far ahead, so the keeper cannot reclaim)."""
    with db.begin() as conn:
        conn.execute(
            text(
                "UPDATE ingest_partitions SET owner = 'thief', epoch = epoch + 1, "
                "lease_until = clock_timestamp() + interval '1 hour' WHERE municipality = :m"
            ),
            {"m": municipality},
        )


def give_back(db: Engine, municipality: str) -> None:
    with db.begin() as conn:
        conn.execute(
            text("UPDATE ingest_partitions SET owner = NULL WHERE municipality = :m"),
            {"m": municipality},
        )


def test_a_refused_batch_is_redelivered_to_its_owners_exactly_once(
    member: IngestProcess, db: Engine, cluster_broker: MosquittoServer
) -> None:
    wait_for(lambda: set(owners(db).values()) == {"keeper"}, 30, "the keeper to hold every town")
    publisher = Publisher(cluster_broker.port, ("town1", "town2"), episodes=2, rate=120)
    try:
        publisher.start()
        time.sleep(0.4)
        steal(db, "town1")  # batches mixing town1 and town2 are refused from here on
        wait_for(publisher.done.is_set, 30, "the publisher")
        assert member.sessions is not None
        assert member.sessions.refused > 0, "no batch met the fence"
        assert member.manager is not None
        wait_for(lambda: "town1" not in member.manager.held, 10, "the keeper to drop town1")
        give_back(db, "town1")  # the thief left without consuming: the keeper claims it again
        wait_until_stored(db, publisher, 60)
    finally:
        publisher.stop()
    check_exactly_once(db, publisher)
    assert owners(db) == dict.fromkeys(TOWNS, "keeper")


def test_the_command_refuses_sqlite(tmp_path: Path) -> None:
    env = {"CITYOPS_DATA_DIR": str(tmp_path), "CITYOPS_ENV": "development"}
    env |= {"CITYOPS_MQTT_URL": "mqtt://127.0.0.1:1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "cityops.cli", "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "needs PostgreSQL" in done.stdout


def test_a_tick_is_fenced_on_ownership_alone_and_recycles_nothing(db: Engine) -> None:

    pipeline = MemberPipeline(db, {})  # not started: nothing is consumed here
    sessions = PartitionSessions("mqtt://127.0.0.1:1", pipeline, lambda _m: None)
    manager = PartitionManager(db, "keeper", lambda: TOWNS, Recorder(), LeaseSettings(3, 0.5))
    sessions.manager = manager
    manager.step()
    pipeline.ticking = True
    with db.begin() as conn:
        sessions.fence(conn, frozenset(TOWNS))  # everything owned: the tick may write
    steal(db, "town1")
    with db.begin() as conn, pytest.raises(FenceError, match="town1"):
        sessions.fence(conn, frozenset(TOWNS))
    assert sessions.refused == 0, "a refused tick strands no message: nothing to recycle"
    pipeline.ticking = False
    with db.begin() as conn, pytest.raises(FenceError, match="town1"):
        sessions.fence(conn, frozenset({"town1", "town2"}))
    assert sessions.refused == 1, "a refused batch recycles its partitions"


def test_a_new_configuration_reaches_the_partitions_held_and_no_other(
    member: IngestProcess, db: Engine, tmp_path: Path
) -> None:
    wait_for(lambda: set(owners(db).values()) == {"keeper"}, 30, "the keeper to hold every town")
    assert member.manager is not None
    assert member.pipeline is not None
    steal(db, "town6")
    wait_for(lambda: "town6" not in member.pipeline.runtimes, 10, "the keeper to drop town6")
    (tmp_path / "new").mkdir()
    path = neighbour_yaml(tmp_path / "new", "town2")
    path.write_text(path.read_text().replace("value: 2.8", "value: 5.0"), encoding="utf-8")
    import_config(db, path, actor="test")
    assert member.reload()
    runtimes = member.pipeline.runtimes
    assert "town6" not in runtimes, "a reload must not take a partition the member lost"
    flood = next(r for r in runtimes["town2"].config.rules if r.id == "flood-level")
    assert isinstance(flood, ThresholdRule)
    assert flood.value == 5.0
