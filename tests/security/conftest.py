"""Fixtures for the hardening tests: a control center on the test town (no MQTT), its API, and
accounts with API tokens made through the real accounts service."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.api.app import create_api
from cityops.app import ControlCenter
from cityops.domain.access import Membership, Role
from cityops.services import accounts, tokens
from tests.town import MUNI, start_center

MakeToken = Callable[..., str]


@pytest.fixture
def center(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[ControlCenter]:
    """The control center; a test changes its settings with
    ``@pytest.mark.parametrize("center", [{...}], indirect=True)``."""
    overrides = getattr(request, "param", {})
    cc = start_center(tmp_path, with_mqtt=False, **overrides)
    yield cc
    cc.stop()


@pytest.fixture
def client(center: ControlCenter) -> Iterator[TestClient]:
    with TestClient(create_api(center)) as c:
        yield c


@pytest.fixture
def make_token(center: ControlCenter) -> MakeToken:
    """make_token(name, role=Role.SUPERVISOR, municipality=MUNI): an account with that role
    and an API token for it (None role: no membership at all)."""

    def make(name: str, role: Role | None = Role.SUPERVISOR, municipality: str = MUNI) -> str:
        now = datetime.now(UTC)
        with center.db.begin() as conn:
            uid = accounts.create_user(
                conn,
                username=name,
                display_name=name.title(),
                password=None,
                installation_admin=False,
                now=now,
            )
            if role is not None:
                membership = Membership(municipality, role, None, None, unmasked_video=False)
                accounts.grant(conn, uid, membership, granted_by="test", now=now)
            _, token = tokens.create_token(conn, uid, "gateway", actor="test", now=now)
        return token

    return make


@pytest.fixture
def gateway(make_token: MakeToken) -> dict[str, str]:
    """Headers of an authenticated ingest client (a supervisor's API token) sending JSON."""
    return {"Authorization": f"Bearer {make_token('gateway')}", "Content-Type": "application/json"}
