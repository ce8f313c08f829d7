from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.app import ControlCenter
from tests.town import api_client, start_center


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, with_mqtt=False)
    yield cc
    cc.stop()


@pytest.fixture
def client(center: ControlCenter) -> Iterator[TestClient]:
    """Logged in (bearer token) as "Operator Ivanova", admin of the test town."""
    with api_client(center) as c:
        yield c
