from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.app import load_runtimes
from cityops.ingest.pipeline import IngestPipeline
from tests.town import FrozenClock, town_db


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """The ingest path on a SQLite file and on a real PostgreSQL server."""
    url = (
        f"sqlite:///{tmp_path / 'cityops.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = town_db(url)
    yield engine
    engine.dispose()


@pytest.fixture
def pipeline(db: Engine, clock: FrozenClock) -> IngestPipeline:
    p = IngestPipeline(db, load_runtimes(db), clock=clock, max_payload_bytes=4096, max_batch=100)
    p.restore()
    return p
