"""A bounded schemathesis run of the location-request operation as the police's system (the
whole-API run in tests/api/test_schemathesis.py calls it as an admin, who is refused at the
door): bodies generated from the OpenAPI document, valid and not, never get a 5xx but the
documented 503, and a 201 always carries a share link."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from cityops.api.app import create_api
from cityops.domain.access import Role
from tests.agency.support import requests_yaml
from tests.town import MUNI, account, start_center

PATH = "/api/v1/m/{mid}/agency/requests"


@pytest.fixture(scope="module")
def police_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    data = tmp_path_factory.mktemp("agency-schemathesis")
    center = start_center(data, with_mqtt=False, also=[requests_yaml(data)])
    try:
        token = account(
            center.db,
            role=Role.LIAISON,
            agency="police",
            installation_admin=False,
            expires_at=datetime.now(UTC) + timedelta(days=1),
        )
        api = create_api(center)
        with TestClient(api):
            yield api, token
    finally:
        center.stop()


@pytest.mark.timeout(300)
def test_no_generated_request_makes_a_server_error(police_app: tuple[FastAPI, str]) -> None:
    app, token = police_app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operation = schema[PATH]["POST"]
    statuses: set[int] = set()

    @given(case=operation.as_strategy())
    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def no_server_error(case: schemathesis.Case[Any]) -> None:
        case.path_parameters = {"mid": MUNI}
        headers = case.headers if case.headers is not None else {}
        headers["Authorization"] = f"Bearer {token}"
        case.headers = headers
        response = case.call()
        statuses.add(response.status_code)
        assert response.status_code < 500 or response.status_code == 503, (
            f"{response.status_code} {response.text[:300]}\n{case.as_curl_command()}"
        )
        if response.status_code == 201:
            assert "/share.html#" in response.json()["link"]
        else:
            assert response.json()["ok"] is False, response.text

    no_server_error()
    assert 422 in statuses  # the bodies reached the decoder and the checks, not only the door
