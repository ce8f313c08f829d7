"""Shared pytest fixtures. The servers themselves live in tests/harness/ (plain Python)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.harness import (
    MosquittoServer,
    PostgresServer,
    mosquitto_unavailable_reason,
    postgres_unavailable_reason,
)

REPO_ROOT = Path(__file__).resolve().parent.parent


def _unavailable(reason: str) -> None:
    """Skip the test, or fail it under CI=true: CI must really run the server tests."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI=true: not skipping)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def mosquitto() -> Iterator[MosquittoServer]:
    """A real Mosquitto broker on 127.0.0.1, shared by the session (started on first use)."""
    if reason := mosquitto_unavailable_reason():
        _unavailable(reason)
    with MosquittoServer() as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server on 127.0.0.1 with database cityops_test, shared by the session."""
    if reason := postgres_unavailable_reason():
        _unavailable(reason)
    with PostgresServer() as server:
        yield server


@pytest.fixture
def pg_url(postgres: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for this test only (dropped afterwards)."""
    slug = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower()).strip("_")[:40]
    name = f"t_{slug}_{os.urandom(4).hex()}"
    url = postgres.create_database(name)
    yield url
    postgres.drop_database(name)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data sets: $CITYOPS_SHARED_DATA, else <repo>/../shared/data."""
    env = os.environ.get("CITYOPS_SHARED_DATA")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        pytest.skip(
            f"shared data not found at {path}: set CITYOPS_SHARED_DATA to the data directory"
        )
    return path


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-second 320x240 clip the test makes itself: a white frame with a moving grey box."""
    path = tmp_path_factory.mktemp("video") / "made.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (320, 240))
    for i in range(20):
        frame = np.full((240, 320, 3), 255, dtype=np.uint8)
        cv2.rectangle(frame, (100 + i * 5, 150), (140 + i * 5, 200), (128, 128, 128), -1)
        writer.write(frame)
    writer.release()
    return path
