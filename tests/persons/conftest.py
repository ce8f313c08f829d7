from __future__ import annotations

import pytest
from sqlalchemy import Engine

from cityops.domain.entities import LonLat
from cityops.domain.persons import Person, PersonKind
from cityops.ingest.pipeline import IngestPipeline
from cityops.services import persons
from tests.town import MUNI, FrozenClock, pipeline_fixtures

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


clock, db, pipeline = pipeline_fixtures()
"""The test town on a SQLite file and on a real PostgreSQL server, its ingest pipeline."""


@pytest.fixture
def maria(db: Engine, pipeline: IngestPipeline, clock: FrozenClock) -> Person:
    with db.begin() as conn:
        return persons.register(conn, pipeline.runtimes[MUNI], child(), actor="test", now=clock.now)
