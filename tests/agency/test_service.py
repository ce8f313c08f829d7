"""The request service on SQLite and on a real PostgreSQL: the same case sent several times at
once still makes one incident (the partial unique index refuses a second, the request retries
and joins), each request its own share, and the audit chain stays whole."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from cityops.app import import_config
from cityops.config.loader import load_config
from cityops.services import agency_requests, audit, shares
from cityops.services.agency_payload import RequestAnswer
from cityops.services.live import LiveBus
from cityops.services.runtime import MunicipalityRuntime
from cityops.store import tables as t
from cityops.store.db import make_engine
from tests.agency.support import body, incidents_of_case, requests_yaml
from tests.town import MUNI, town_db

POLICE = agency_requests.Requester(agency="police", via="http", actor="police-system")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cityops.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


def test_the_same_case_at_once_makes_one_incident_and_a_share_per_request(
    db_url: str, tmp_path: Path
) -> None:
    town_db(db_url).dispose()
    db = make_engine(db_url)
    config = requests_yaml(tmp_path)
    import_config(db, config, actor="test")
    rt = MunicipalityRuntime.build(load_config(config))
    live = LiveBus()
    payload = json.dumps(body("112-race-1")).encode()

    def send(_: int) -> RequestAnswer:
        return agency_requests.handle(
            db,
            rt,
            live,
            payload,
            POLICE,
            public_url="https://cityops.example",
            clock=lambda: datetime.now(UTC),
        )

    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            answers = list(pool.map(send, range(6)))
        assert incidents_of_case(db, "112-race-1") == 1
        assert len({a.incident_id for a in answers}) == 1
        assert sum(a.incident_created for a in answers) == 1
        assert len({a.share_id for a in answers}) == 6
        assert all(a.link.startswith("https://cityops.example/share.html#") for a in answers)
        with db.connect() as conn:
            made = shares.for_incident(conn, MUNI, answers[0].incident_id)
            assert {s.id for s in made} == {a.share_id for a in answers}
            timeline = conn.execute(
                select(t.incident_timeline.c.kind).where(
                    t.incident_timeline.c.incident_id == answers[0].incident_id
                )
            ).scalars()
            kinds = sorted(str(k) for k in timeline)
            assert kinds.count("share") == 6
            reports = audit.verify(conn, chains=[MUNI])
        assert all(r.ok for r in reports), reports
    finally:
        db.dispose()
