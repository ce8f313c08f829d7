"""Data-subject requests through the real command line: find, erase, both audited."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cityops.cli import app
from cityops.domain.evidence import EvidenceRecord
from cityops.services import audit, evidence
from cityops.store import audit_repo, evidence_repo
from tests.town import MUNI, T0, town_db


def _recorded(db: Engine, root: Path) -> None:
    """Evidence every 10 minutes on cam-a and cam-b from T0 to T0 + 1 h."""
    rows = []
    for cam in ("cam-a", "cam-b"):
        for i in range(7):
            at = T0 + timedelta(minutes=10 * i)
            rel = f"{MUNI}/{cam}/{at:%Y-%m-%d}/{cam}-{i}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / f"{rel}.jpg").write_bytes(b"jpeg")
            (root / f"{rel}.mp4").write_bytes(b"mp4")
            rows.append(
                EvidenceRecord(
                    MUNI,
                    f"{cam}-{i}",
                    cam,
                    "person",
                    at,
                    f"{rel}.jpg",
                    f"{rel}.mp4",
                    at - timedelta(seconds=5),
                    at + timedelta(seconds=5),
                    at,
                )
            )
    with db.begin() as conn:
        evidence_repo.insert(conn, rows)


@pytest.fixture
def town(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Engine, Path]:
    monkeypatch.setenv("CITYOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(tmp_path / "var"))
    db = town_db(db_url)
    root = tmp_path / "var" / "evidence"
    _recorded(db, root)
    return db, root


WINDOW = ["--since", "2026-11-20T12:15:00+02:00", "--until", "2026-11-20T10:35:00Z"]


def test_find_lists_the_images_of_that_camera_and_time_and_is_audited(
    town: tuple[Engine, Path],
) -> None:
    db, _ = town
    result = CliRunner().invoke(
        app, ["privacy", "find", "-m", MUNI, "-c", "cam-a", *WINDOW, "--operator", "dpo"]
    )
    assert result.exit_code == 0, result.output
    assert "2 recorded event(s)" in result.output
    for shown in ("cam-a-2", "cam-a-3"):
        assert shown in result.output
    for not_shown in ("cam-a-1", "cam-a-4", "cam-b-2"):
        assert not_shown not in result.output
    with db.connect() as conn:
        (rec,) = [r for r in audit_repo.chain_records(conn, MUNI) if r.action == "privacy.find"]
    assert (rec.actor, rec.target) == ("dpo", "cam-a")
    assert rec.detail["events"] == ["cam-a-2", "cam-a-3"]
    assert rec.detail["since"] == "2026-11-20T10:15:00.000000Z"


def test_erase_deletes_files_and_records_and_nothing_else(town: tuple[Engine, Path]) -> None:
    db, root = town
    files_before = {p.name for p in root.rglob("*") if p.is_file()}
    result = CliRunner().invoke(
        app,
        [
            "privacy",
            "erase",
            "-m",
            MUNI,
            "-c",
            "cam-a",
            *WINDOW,
            "--reason",
            "art. 17(1)(a): no longer necessary",
            "--request",
            "DSR-2026-014",
            "--operator",
            "dpo",
            "--yes",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "erased the images of 2 event(s)" in result.output
    gone = {f"cam-a-{i}.{x}" for i in (2, 3) for x in ("jpg", "mp4")}
    assert {p.name for p in root.rglob("*") if p.is_file()} == files_before - gone
    with db.connect() as conn:
        left = evidence.find(conn, MUNI)
        erased = [r for r in audit_repo.chain_records(conn, MUNI) if r.action == "privacy.erase"]
        assert all(r.ok for r in audit.verify(conn))
    assert len(left) == 12
    assert not {r.event_id for r in left} & {"cam-a-2", "cam-a-3"}
    (rec,) = erased
    assert rec.reason == "art. 17(1)(a): no longer necessary"
    assert (rec.detail["request"], rec.detail["erased"]) == ("DSR-2026-014", 2)


def test_erase_without_confirmation_changes_nothing(town: tuple[Engine, Path]) -> None:
    db, root = town
    result = CliRunner().invoke(
        app,
        ["privacy", "erase", "-m", MUNI, *WINDOW, "--reason", "r", "--request", "x"],
        input="n\n",
    )
    assert result.exit_code == 1
    assert len([p for p in root.rglob("*") if p.is_file()]) == 28
    with db.connect() as conn:
        assert len(evidence.find(conn, MUNI)) == 14


def test_a_time_without_zone_is_refused(town: tuple[Engine, Path]) -> None:
    result = CliRunner().invoke(
        app,
        [
            "privacy",
            "find",
            "-m",
            MUNI,
            "--since",
            "2026-11-20T10:00",
            "--until",
            "2026-11-20T11:00Z",
        ],
    )
    assert result.exit_code == 2
    assert "needs a zone" in result.output


def test_retention_run_command(town: tuple[Engine, Path]) -> None:
    _, root = town
    result = CliRunner().invoke(app, ["retention", "run", "-m", MUNI])
    assert result.exit_code == 0, result.output
    assert f"{MUNI}: ok; removed:" in result.output
    assert "evidence 0," in result.output  # younger than the default 30 days: kept
    assert len([p for p in root.rglob("*") if p.is_file()]) == 28
    assert CliRunner().invoke(app, ["retention", "run", "-m", "nowhere"]).exit_code == 2
