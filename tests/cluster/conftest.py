"""Multi-process ingest against a real PostgreSQL and a real Mosquitto (ports 20100-20199):
six municipalities (the test town under six ids) in a fresh database per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.app import import_config
from cityops.store.db import make_engine, upgrade
from tests.harness import (
    MosquittoServer,
    PostgresServer,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
)
from tests.town import neighbour_yaml

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


@pytest.fixture
def db(cluster_db: str) -> Iterator[Engine]:
    """An engine on ``cluster_db``."""
    engine = make_engine(cluster_db)
    yield engine
    engine.dispose()
