"""Multi-process ingest against a real PostgreSQL and a real Mosquitto (ports 20100-20199):
six municipalities (the test town under six ids) in a fresh database per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine

from cityops.app import ControlCenter, import_config
from cityops.domain.devices import DeviceKind, DeviceScope
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade
from tests.harness import (
    MosquittoServer,
    PostgresServer,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
)
from tests.town import neighbour_yaml

if TYPE_CHECKING:
    from tests.cluster.secured import Rig

PG_PORT = int(os.environ.get("CITYOPS_TEST_CLUSTER_PG_PORT", "20110"))
MQTT_PORT = int(os.environ.get("CITYOPS_TEST_CLUSTER_MQTT_PORT", "20111"))
"""Overridable, so that two people's runs of these tests on one machine do not collide."""
TOWNS = tuple(f"town{i}" for i in range(1, 7))


def _unavailable(reason: str) -> None:
    """Skip, or fail under CI=true (as tests/conftest.py)."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def cluster_pg() -> Iterator[PostgresServer]:
    if reason := postgres_unavailable_reason():
        _unavailable(f"multi-process ingest needs PostgreSQL: {reason}")
    with PostgresServer(PG_PORT) as server:
        yield server


@pytest.fixture(scope="session")
def cluster_broker() -> Iterator[MosquittoServer]:
    if reason := mosquitto_unavailable_reason():
        _unavailable(f"multi-process ingest is tested on Mosquitto: {reason}")
    with MosquittoServer(MQTT_PORT) as server:
        yield server


@pytest.fixture
def cluster_db(cluster_pg: PostgresServer, tmp_path: Path) -> Iterator[str]:
    """A migrated database with the six towns imported; its URL."""
    name = f"t_cluster_{os.urandom(4).hex()}"
    url = cluster_pg.create_database(name)
    upgrade(url)
    db = make_engine(url)
    try:
        for town in TOWNS:
            import_config(db, neighbour_yaml(tmp_path, town), actor="test")
    finally:
        db.dispose()
    yield url
    cluster_pg.drop_database(name)


@pytest.fixture(scope="session")
def secured() -> Iterator[MosquittoServer]:
    """A Mosquitto secured as docs/MQTT.md says (a finite queue limit: see its "Delivery
    guarantee"), on a free port; tests/cluster/secured.py syncs it."""
    if reason := mosquitto_unavailable_reason():
        _unavailable(reason)
    with MosquittoServer(secured=True, max_queued_messages=10_000_000) as server:
        yield server


@pytest.fixture
def prefix() -> str:
    """Partition users of the test's own on the session's secured broker."""
    return f"t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def gateways(db: Engine) -> dict[str, tuple[str, str]]:
    """A gateway credential per town: town -> (username, secret)."""
    from tests.e2e.acl_support import issue

    return {town: issue(db, DeviceScope("gw", DeviceKind.GATEWAY, town)) for town in TOWNS}


@pytest.fixture
def db(cluster_db: str) -> Iterator[Engine]:
    """An engine on ``cluster_db``."""
    engine = make_engine(cluster_db)
    yield engine
    engine.dispose()


@pytest.fixture
def rig(
    db: Engine,
    cluster_db: str,
    secured: MosquittoServer,
    prefix: str,
    gateways: dict[str, tuple[str, str]],
    tmp_path: Path,
) -> Iterator[Rig]:
    """Members and publishers on the secured broker, all stopped at the end."""
    from tests.cluster.secured import Rig

    started = Rig(db, cluster_db, secured, prefix, gateways, tmp_path)
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def server(
    cluster_db: str, cluster_broker: MosquittoServer, tmp_path: Path
) -> Iterator[ControlCenter]:
    """The server with external ingest on the test's database, its own MQTT client on the
    anonymous broker."""
    settings = Settings(
        data_dir=tmp_path / "server",
        database_url=cluster_db,
        mqtt_url=cluster_broker.url,
        mqtt_client_id=f"srv-{uuid.uuid4().hex[:8]}",
        ingest="external",
        camera_probe_s=0,
        video_worker=False,
        session_cookie_secure=False,
    )
    center = ControlCenter(settings)
    center.start()
    yield center
    center.stop()
