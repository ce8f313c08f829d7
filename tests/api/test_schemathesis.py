"""A bounded schemathesis run over the whole API: whatever a client sends, never a 500 (only
the 5xx answers an operation documents, such as 503 for an offline camera).

Every operation of the OpenAPI document gets 25 generated requests (valid and invalid paths,
queries, headers and bodies) against the test town on a temporary SQLite file, with the ingest
worker running and one incident open. Requests are authenticated (a bearer token of an admin of
the town who is also an installation admin) except one in eight, which goes anonymous and must
be refused with 401 (never a 5xx). Half the time a path parameter is steered to something that
exists (the town, a camera, a sensor, the incident), so requests get past the 404 at the door
and reach the handlers. The two endless
streams are left out: the SSE feed (``/live``) and the MJPEG live view (``/live.mjpg``) never end
a response, so a generated request would hang.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.api.app import create_api
from tests.api.test_authz_matrix import EXPECTED
from tests.api.test_authz_matrix import PUBLIC as MATRIX_PUBLIC
from tests.api.test_incidents_api import raise_flood
from tests.town import MUNI, account, start_center

ENDLESS = re.compile(r"/live(\.mjpg)?$")
PUBLIC = frozenset(path for (_, path), rule in EXPECTED.items() if rule == MATRIX_PUBLIC)
"""What answers without a login: the matrix's PUBLIC rows (tests/api/test_authz_matrix.py), so
there is one list of them."""
KNOWN = {
    "mid": MUNI,
    "camera_id": "cam-a",
    "sensor_id": "river-1",
    "incident_id": 1,
    "step_id": "verify",
}
STEER = st.fixed_dictionaries(
    {
        **{name: st.booleans() for name in KNOWN},
        "anonymous": st.integers(0, 7).map(lambda n: n == 0),
    }
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    center = start_center(tmp_path_factory.mktemp("schemathesis"), with_mqtt=False)
    try:
        token = account(center.db, "schemathesis", display_name="Schemathesis")
        api = create_api(center)
        with TestClient(api) as client:  # one open incident (a flood, with its SOP)
            client.headers["Authorization"] = f"Bearer {token}"
            assert raise_flood(client)["id"] == 1
        yield api, token
    finally:
        center.stop()


def _steer(case: schemathesis.Case, steer: dict[str, bool], token: str) -> None:
    for name, value in KNOWN.items():
        if steer[name] and case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    headers = case.headers if case.headers is not None else {}
    headers.pop("Authorization", None)
    if not steer["anonymous"]:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers


def documented_errors(case: schemathesis.Case) -> set[int]:
    """5xx answers the operation documents (503: a camera offline, ingest not running)."""
    responses = case.operation.definition.raw.get("responses", {})
    return {int(code) for code in responses if code.isdigit() and int(code) >= 500}


@pytest.mark.timeout(600)
def test_no_request_makes_a_server_error(api_app: tuple[FastAPI, str]) -> None:
    app, token = api_app
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if ENDLESS.search(operation.path):
            continue

        @given(case=operation.as_strategy(), steer=STEER)
        @settings(
            max_examples=25,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: schemathesis.Case, steer: dict[str, Any]) -> None:
            _steer(case, steer, token)
            response = case.call()
            documented = documented_errors(case)
            assert response.status_code < 500 or response.status_code in documented, (
                f"{response.status_code} {response.text[:300]}\n{case.as_curl_command()}"
            )
            if steer["anonymous"] and case.operation.path not in PUBLIC:
                assert response.status_code >= 400, (  # 401, or refused even earlier
                    f"anonymous got {response.status_code}\n{case.as_curl_command()}"
                )

        no_server_error()
        tried += 1
    assert tried >= 20  # every operation but the two streams
