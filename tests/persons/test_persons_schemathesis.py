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

from tests.api.schemathesis_support import run, seeded_api
from tests.persons.test_persons_api import BODY
from tests.town import MUNI

KNOWN: dict[str, Any] = {"mid": MUNI, "person_id": 1, "device": "watch-7", "incident_id": 1}


def a_person_in_sos(client: TestClient) -> None:
    """A person, and her SOS episode as incident 1."""
    assert client.post(f"/api/v1/m/{MUNI}/persons", json=BODY).json()["id"] == 1
    sos = client.post(f"/api/v1/m/{MUNI}/persons/watch-7/sos", json={})
    assert sos.json() == {"accepted": 1, "rejected": []}


@pytest.fixture(scope="module")
def api_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, str]]:
    data = tmp_path_factory.mktemp("persons-schemathesis")
    with seeded_api(data, a_person_in_sos) as app_and_token:
        yield app_and_token


def refused(case: schemathesis.Case[Any], response: Any) -> None:
    assert response.status_code == 401, case.as_curl_command()


@pytest.mark.timeout(600)
def test_no_request_to_the_persons_routes_makes_a_server_error(
    api_app: tuple[FastAPI, str],
) -> None:
    app, token = api_app
    tried = run(
        app,
        token,
        KNOWN,
        takes=lambda path: "/person" in path,
        max_examples=40,
        anonymous=refused,
    )
    assert tried == 13  # every persons' route
