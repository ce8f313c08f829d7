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


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Engine]:
    engine = town_db(f"sqlite:///{tmp_path / 'cityops.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def pipeline(db: Engine, clock: FrozenClock) -> IngestPipeline:
    p = IngestPipeline(db, load_runtimes(db), clock=clock, max_payload_bytes=4096, max_batch=100)
    p.restore()
    return p
