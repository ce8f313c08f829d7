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

from tests.api.schemathesis_support import run, seeded_api
from tests.api.test_authz_matrix import EXPECTED
from tests.api.test_authz_matrix import PUBLIC as MATRIX_PUBLIC
from tests.api.test_incidents_api import raise_flood
from tests.town import MUNI

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


def one_flood(client: TestClient) -> None:
    """One open incident (a flood, with its SOP)."""
    assert raise_flood(client)["id"] == 1


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    with seeded_api(tmp_path_factory.mktemp("schemathesis"), one_flood) as app_and_token:
        yield app_and_token


def refused_unless_public(case: schemathesis.Case[Any], response: Any) -> None:
    if case.operation.path not in PUBLIC:
        assert response.status_code >= 400, (  # 401, or refused even earlier
            f"anonymous got {response.status_code}\n{case.as_curl_command()}"
        )


@pytest.mark.timeout(600)
def test_no_request_makes_a_server_error(api_app: tuple[FastAPI, str]) -> None:
    app, token = api_app
    tried = run(
        app,
        token,
        KNOWN,
        takes=lambda path: not ENDLESS.search(path),
        max_examples=25,
        anonymous=refused_unless_public,
    )
    assert tried >= 20  # every operation but the two streams
