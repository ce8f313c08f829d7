"""``cityops persons add|list|remove`` on a real database file, audited, with the photo."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cityops.cli import app
from cityops.store.db import make_engine
from cityops.store.tables_audit import audit_log
from tests.town import MUNI, town_db


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("CITYOPS_DATABASE_URL", raising=False)
    town_db(f"sqlite:///{(tmp_path / 'cityops.db').as_posix()}").dispose()
    return CliRunner()


def invoke(runner: CliRunner, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_add_list_remove(runner: CliRunner, tmp_path: Path) -> None:
    photo = tmp_path / "ivan.png"
    ok, png = cv2.imencode(".png", np.zeros((40, 30, 3), np.uint8))
    assert ok
    photo.write_bytes(png.tobytes())
    out = invoke(
        runner,
        *("persons", "add", "-m", MUNI, "--name", "Ivan D.", "--device", "watch-9"),
        *("--guardian", "Petya D.", "--phone", "+359 88 765 4321", "--kind", "dementia"),
        *("--area", "25.390,42.618; 25.395,42.618; 25.395,42.621; 25.390,42.621"),
        *("--photo", str(photo)),
    )
    assert "registered person 1 with device watch-9" in out
    listed = invoke(runner, "persons", "list", "-m", MUNI)
    assert "Ivan D." in listed
    assert "4 corners" in listed
    assert "+359" not in listed  # no contact in the list
    stored = list((tmp_path / "persons" / MUNI).glob("1-*.jpg"))
    assert len(stored) == 1
    refused = invoke(
        runner,
        *("persons", "add", "-m", MUNI, "--name", "Other", "--device", "watch-9"),
        *("--guardian", "X", "--phone", "+359 1234"),
        code=2,
    )
    assert "already registered" in refused
    assert "removed person 1" in invoke(runner, "persons", "remove", "-m", MUNI, "1")
    assert not stored[0].exists()
    assert "Ivan D." not in invoke(runner, "persons", "list", "-m", MUNI)
    invoke(runner, "persons", "remove", "-m", MUNI, "1", code=1)
    db = make_engine(f"sqlite:///{(tmp_path / 'cityops.db').as_posix()}")
    with db.connect() as conn:
        q = select(audit_log.c.actor, audit_log.c.detail).where(
            audit_log.c.action == "person.changed"
        )
        rows = conn.execute(q).all()
    db.dispose()
    assert [d["op"] for _, d in rows] == ["create", "photo", "remove"]
    assert all(actor.startswith("cli:") for actor, _ in rows)


def test_a_bad_area_is_refused(runner: CliRunner) -> None:
    out = invoke(
        runner,
        *("persons", "add", "-m", MUNI, "--name", "A", "--device", "w-1"),
        *("--guardian", "B", "--phone", "+359 1234", "--area", "25.39;42.61"),
        code=2,
    )
    assert "lon,lat" in out
