"""What the bounded schemathesis runs share (tests/api/test_schemathesis.py over the whole API,
tests/persons/test_persons_schemathesis.py over the persons' routes): the test town behind the
API with an admin's bearer token and what a run needs in it, and the run itself. Every
operation the run takes gets ``max_examples`` generated requests; a path parameter is steered
half the time to something that exists (``known``), so requests get past the 404 at the door;
one request in eight goes anonymous. Whatever a client sends: never a 5xx that the operation
does not document."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cityops.api.app import create_api
from tests.town import account, start_center

Seed = Callable[[TestClient], None]
"""Makes what the run needs through the API (the client carries the admin's token)."""
AnonymousCheck = Callable[[schemathesis.Case[Any], Any], None]
"""Judges the answer to an anonymous request."""


@contextmanager
def seeded_api(data: Path, seed: Seed) -> Iterator[tuple[FastAPI, str]]:
    """The API of a started control center for the test town under ``data`` (no MQTT), after
    ``seed``; and the bearer token of an admin of the town who is also an installation admin."""
    center = start_center(data, with_mqtt=False)
    try:
        token = account(center.db, "schemathesis", display_name="Schemathesis")
        api = create_api(center)
        with TestClient(api) as client:
            client.headers["Authorization"] = f"Bearer {token}"
            seed(client)
        yield api, token
    finally:
        center.stop()


def documented_errors(case: schemathesis.Case[Any]) -> set[int]:
    """5xx answers the operation documents (503: a camera offline, ingest not running)."""
    responses = case.operation.definition.raw.get("responses", {})
    return {int(code) for code in responses if code.isdigit() and int(code) >= 500}


def _steer(
    case: schemathesis.Case[Any], steer: dict[str, bool], known: Mapping[str, Any], token: str
) -> None:
    for name, value in known.items():
        if steer[name] and case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = value
    headers = case.headers if case.headers is not None else {}
    headers.pop("Authorization", None)
    if not steer["anonymous"]:
        headers["Authorization"] = f"Bearer {token}"
    case.headers = headers


def run(
    app: FastAPI,
    token: str,
    known: Mapping[str, Any],
    *,
    takes: Callable[[str], bool],
    max_examples: int,
    anonymous: AnonymousCheck,
) -> int:
    """Runs every operation whose path ``takes`` accepts; returns how many ran."""
    steers = st.fixed_dictionaries(
        {
            **{name: st.booleans() for name in known},
            "anonymous": st.integers(0, 7).map(lambda n: n == 0),
        }
    )
    api_schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tried = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema raises here
        if not takes(operation.path):
            continue

        @given(case=operation.as_strategy(), steer=steers)
        @settings(
            max_examples=max_examples,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def no_server_error(case: schemathesis.Case[Any], steer: dict[str, bool]) -> None:
            _steer(case, steer, known, token)
            response = case.call()
            assert response.status_code < 500 or response.status_code in documented_errors(case), (
                f"{response.status_code} {response.text[:300]}\n{case.as_curl_command()}"
            )
            if steer["anonymous"]:
                anonymous(case, response)

        no_server_error()
        tried += 1
    return tried
