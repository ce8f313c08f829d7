"""``cityops devices create --kind agency``: an agency system's MQTT credential names agencies of
its municipality (not sensors or cameras), and at least one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.devices import may_publish
from cityops.services import devices
from cityops.store.db import make_engine
from tests.town import town_db


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cityops.db'}"
    town_db(url).dispose()
    monkeypatch.setenv("CITYOPS_DATABASE_URL", url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(tmp_path / "var"))
    return url


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_an_agency_credential_for_the_police(db_url: str) -> None:
    code, out = run("devices", "create", "police-112", "--kind", "agency", "-m", "testtown",
                    "-d", "police")  # fmt: skip
    assert code == 0, out
    secret = re.search(r"secret:\s+(\S+)", out)
    assert secret is not None
    db = make_engine(db_url)
    try:
        with db.connect() as conn:
            row = devices.authenticate(conn, "testtown.police-112", secret[1])
            assert row is not None
            granted = devices.grants_of(row, devices.listed(conn))
    finally:
        db.dispose()
    assert may_publish(granted, "cityops/testtown/agency/police/requests")
    assert not may_publish(granted, "cityops/testtown/agency/traffic-police/requests")


def test_an_agency_credential_names_agencies_of_its_municipality(db_url: str) -> None:
    code, out = run("devices", "create", "x", "--kind", "agency", "-m", "testtown", "-d", "cam-a")
    assert code == 2
    assert "not agencies of testtown: cam-a" in out
    code, out = run("devices", "create", "x", "--kind", "agency", "-m", "testtown")
    assert code == 2
    assert "names its agency" in out
