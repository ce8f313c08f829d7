"""The persons' routes under a bounded schemathesis run (as tests/api/test_schemathesis.py does
for the whole API, here only ours, with more examples): whatever a client sends, never a 5xx
that the operation does not document, and anonymous requests refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.api.app import create_api
from tests.api.test_schemathesis import documented_errors
from tests.persons.test_persons_api import BODY
from tests.town import MUNI, account, start_center

KNOWN: dict[str, Any] = {"mid": MUNI, "person_id": 1, "device": "watch-7", "incident_id": 1}
STEER = st.fixed_dictionaries(
    {
        **{name: st.booleans() for name in KNOWN},
        "anonymous": st.integers(0, 7).map(lambda n: n == 0),
    }
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    center = start_center(tmp_path_factory.mktemp("persons-schemathesis"), with_mqtt=False)
    try:
        token = account(center.db, "schemathesis", display_name="Schemathesis")
        api = create_api(center)
        with TestClient(api) as client:  # a person, and her SOS episode as incident 1
            client.headers["Authorization"] = f"Bearer {token}"
            assert client.post(f"/api/v1/m/{MUNI}/persons", json=BODY).json()["id"] == 1
            sos = client.post(f"/api/v1/m/{MUNI}/persons/watch-7/sos", json={})
            assert sos.json() == {"accepted": 1, "rejected": []}
        yield api, token
    finally:
        center.stop()


@pytest.mark.timeout(600)
def test_no_request_to_the_persons_routes_makes_a_server_error(
    api_app: tuple[FastAPI, str],
) -> None:
    app, token = api_app
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if "/person" not in operation.path:
            continue

        @given(case=operation.as_strategy(), steer=STEER)
        @settings(
            max_examples=40,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: schemathesis.Case, steer: dict[str, Any]) -> None:
            for name, value in KNOWN.items():
                if steer[name] and case.path_parameters and name in case.path_parameters:
                    case.path_parameters[name] = value
            headers = case.headers if case.headers is not None else {}
            headers.pop("Authorization", None)
            if not steer["anonymous"]:
                headers["Authorization"] = f"Bearer {token}"
            case.headers = headers
            response = case.call()
            assert response.status_code < 500 or response.status_code in documented_errors(case), (
                f"{response.status_code} {response.text[:300]}\n{case.as_curl_command()}"
            )
            if steer["anonymous"]:
                assert response.status_code == 401, case.as_curl_command()

        no_server_error()
        tried += 1
    assert tried == 13  # every persons' route
