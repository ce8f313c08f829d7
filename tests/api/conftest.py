from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cityops.api.app import create_api
from cityops.app import ControlCenter, import_config
from cityops.settings import Settings
from cityops.store.db import make_engine, upgrade
from tests.town import TOWN_YAML


@pytest.fixture
def center(tmp_path: Path) -> Iterator[ControlCenter]:
    settings = Settings(data_dir=tmp_path)
    upgrade(settings.db_url)
    db = make_engine(settings.db_url)
    import_config(db, TOWN_YAML)
    db.dispose()
    cc = ControlCenter(settings)
    cc.start(with_mqtt=False)
    yield cc
    cc.stop()


@pytest.fixture
def client(center: ControlCenter) -> Iterator[TestClient]:
    with TestClient(create_api(center)) as c:
        c.headers["X-CityOps-Operator"] = "Operator Ivanova"
        yield c
