from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.api.app import create_api
from cityops.app import ControlCenter
from tests.town import start_center


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    cc = start_center(tmp_path, with_mqtt=False)
    yield cc
    cc.stop()


@pytest.fixture
def client(center: ControlCenter) -> Iterator[TestClient]:
    with TestClient(create_api(center)) as c:
        c.headers["X-CityOps-Operator"] = "Operator Ivanova"
        yield c
