"""The test town: a small municipality the project makes itself (tests/fixtures/testtown.yaml)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cityops.api.app import create_api
from cityops.app import ControlCenter, import_config, load_runtimes
from cityops.config.loader import load_config
from cityops.domain.access import Membership, Role
from cityops.domain.catalog import MunicipalityConfig
from cityops.ingest.pipeline import IngestPipeline
from cityops.services import accounts, tokens
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade

TOWN_YAML = Path(__file__).parent / "fixtures" / "testtown.yaml"
MUNI = "testtown"
NEIGHBOUR = "nexttown"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
"""A fixed instant for tests with a frozen clock (noon in Sofia)."""


def town_config() -> MunicipalityConfig:
    return load_config(TOWN_YAML)


def town_db(url: str) -> Engine:
    """A migrated database at ``url`` with the test town imported."""
    upgrade(url)
    db = make_engine(url)
    import_config(db, TOWN_YAML, actor="test")
    return db


class FrozenClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        from datetime import timedelta

        self.now += timedelta(**delta)
        return self.now


def account(
    db: Engine,
    username: str | None = None,
    *,
    display_name: str = "Operator Ivanova",
    role: Role | None = Role.ADMIN,
    municipality: str | Sequence[str] = MUNI,
    agency: str | None = None,
    expires_at: datetime | None = None,
    unmasked_video: bool = False,
    installation_admin: bool = True,
    password: str | None = None,
) -> str:
    """An account (with ``role`` in ``municipality``, or in each of several, unless ``role`` is
    None); returns an API token for it. Tests authenticate as this (``Authorization: Bearer``)
    by default."""
    now = datetime.now(UTC)
    username = username or f"user-{uuid.uuid4().hex[:12]}"
    with db.begin() as conn:
        user_id = accounts.create_user(
            conn,
            username=username,
            display_name=display_name,
            password=password,
            installation_admin=installation_admin,
            now=now,
            created_by="test",
        )
        places = [municipality] if isinstance(municipality, str) else list(municipality)
        for place in places if role is not None else []:
            assert role is not None
            membership = Membership(place, role, agency, expires_at, unmasked_video)
            accounts.grant(conn, user_id, membership, granted_by="test", now=now)
        return tokens.create_token(conn, user_id, "test", actor="test", now=now)[1]


@contextmanager
def api_client(center: ControlCenter, token: str | None = None, **who: Any) -> Iterator[TestClient]:
    """A TestClient of the center's API, logged in with ``token`` (default: a new account made
    by :func:`account` with ``who``: an admin of the test town and an installation admin)."""
    token = token or account(center.db, **who)
    with TestClient(create_api(center)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        yield client


def neighbour_yaml(directory: Path, municipality: str = NEIGHBOUR) -> Path:
    """The test town again under another id: a second municipality on the same installation."""
    path = directory / f"{municipality}.yaml"
    text = TOWN_YAML.read_text(encoding="utf-8").replace(f"id: {MUNI}\n", f"id: {municipality}\n")
    path.write_text(text.replace("name: Test Town", "name: Next Town"), encoding="utf-8")
    return path


def start_center(
    data_dir: Path, *, with_mqtt: bool = True, also: Sequence[Path] = (), **settings: Any
) -> ControlCenter:
    """A running control center on a fresh SQLite file in ``data_dir`` with the town imported
    (and the configurations ``also``)."""
    settings.setdefault("camera_probe_s", 0)  # tests that want the monitor ask for it
    settings.setdefault("video_worker", False)  # and those that want a video worker
    settings.setdefault("mqtt_anonymous", True)  # test publishers are anonymous (D's tests: not)
    settings.setdefault("broker", "amqtt")  # the supervised Mosquitto has tests of its own
    settings.setdefault("session_cookie_secure", False)  # the TestClient speaks plain http
    s = Settings(data_dir=data_dir, **settings)
    db = town_db(s.db_url)
    for path in also:
        import_config(db, path, actor="test")
    db.dispose()
    center = ControlCenter(s)
    center.start(with_mqtt=with_mqtt)
    if with_mqtt:
        assert center.mqtt is not None
        assert center.mqtt.connected.wait(10), "the control center did not reach the broker"
    return center


ON_BOTH_DATABASES = ("sqlite", pytest.param("postgresql", marks=pytest.mark.postgres))
"""The params of a fixture that runs its tests on a SQLite file and on a real PostgreSQL
server (the ``pg_url`` fixture, marked ``postgres``)."""


def pipeline_fixtures(**options: Any) -> tuple[Any, Any, Any]:
    """The fixtures of tests of the ingest path, for a conftest to bind as
    ``clock, db, pipeline = pipeline_fixtures(...)``: ``clock`` a :class:`FrozenClock`; ``db``
    the test town's database on a SQLite file and on a real PostgreSQL server; ``pipeline`` an
    ``IngestPipeline`` over both, its state restored, built with ``options``."""

    @pytest.fixture
    def clock() -> FrozenClock:
        return FrozenClock()

    @pytest.fixture(params=ON_BOTH_DATABASES)
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
        p = IngestPipeline(db, load_runtimes(db), clock=clock, **options)
        p.restore()
        return p

    return clock, db, pipeline
