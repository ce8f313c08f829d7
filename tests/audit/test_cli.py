"""``cityops audit verify|anchor`` through the real command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli import app
from tests.audit.support import MUNI, migrated, tamper, write_views


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.setenv("CITYOPS_DATABASE_URL", db_url)
    monkeypatch.setenv("CITYOPS_DATA_DIR", str(tmp_path / "var"))
    return db_url


def test_verify_passes_then_names_the_deleted_and_truncated_records(
    cli_db: str, tmp_path: Path
) -> None:
    db = migrated(cli_db)
    write_views(db, 6)
    runner = CliRunner()
    exported = tmp_path / "outside" / "anchors.jsonl"

    anchored = runner.invoke(app, ["audit", "anchor", "--export", str(exported)])
    assert anchored.exit_code == 0, anchored.output
    assert f"anchored {MUNI} at seq 6" in anchored.output
    assert exported.read_text(encoding="utf-8").count("\n") == 1

    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 0, ok.output
    assert f"ok {MUNI}: 6 records (seq 1..6)" in ok.output

    with db.begin() as conn:
        tamper(conn, "DELETE FROM audit_log WHERE seq IN (2, 6)")
        tamper(conn, "DELETE FROM audit_anchors")
        tamper(conn, "UPDATE audit_heads SET seq = 5")
    bad = runner.invoke(app, ["audit", "verify", "--anchors", str(exported)])
    assert bad.exit_code == 1, bad.output
    assert f"TAMPERED {MUNI}" in bad.output
    assert f"{MUNI} seq 2: deleted: expected seq 2, found next record is seq 3" in bad.output
    assert f"{MUNI} seq 6: truncated: expected records up to seq 6 (anchor of" in bad.output
    db.dispose()


def test_verify_refuses_a_malformed_anchor_file(cli_db: str, tmp_path: Path) -> None:
    migrated(cli_db).dispose()
    broken = tmp_path / "anchors.jsonl"
    broken.write_text('{"chain": "x"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["audit", "verify", "--anchors", str(broken)])
    assert result.exit_code == 2
    assert "anchors.jsonl:1: not an anchor line" in result.output
