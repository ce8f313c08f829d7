from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cityops.app import load_runtimes
from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonKind
from cityops.ingest.pipeline import IngestPipeline
from cityops.services import persons
from tests.town import MUNI, FrozenClock, town_db

SAFE_AREA = (  # a block around the test town's crossing (25.3925, 42.6194)
    LonLat(25.3900, 42.6180),
    LonLat(25.3950, 42.6180),
    LonLat(25.3950, 42.6210),
    LonLat(25.3900, 42.6210),
)
INSIDE = LonLat(25.3925, 42.6194)
OUTSIDE = LonLat(25.3990, 42.6230)


def child(device: str = "tracker-1", name: str = "Maria P.") -> Person:
    return Person(
        municipality=MUNI,
        kind=PersonKind.CHILD,
        name=name,
        guardian_name="Elena P.",
        guardian_phone="+359 88 123 4567",
        device_id=device,
        safe_area=SAFE_AREA,
        notes="red jacket",
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
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
    p = IngestPipeline(db, load_runtimes(db), clock=clock)
    p.restore()
    return p


@pytest.fixture
def maria(db: Engine, pipeline: IngestPipeline, clock: FrozenClock) -> Person:
    with db.begin() as conn:
        return persons.register(conn, pipeline.runtimes[MUNI], child(), actor="test", now=clock.now)
