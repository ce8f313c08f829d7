"""``cityops devices create|list|revoke`` and ``cityops mqtt sync`` through the real command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cityops.cli import app
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


def test_create_shows_the_secret_once_and_it_logs_in(db_url: str) -> None:
    code, out = run("devices", "create", "gw-north", "--kind", "gateway", "-m", "testtown",
                    "-d", "river-1", "-d", "river-2")  # fmt: skip
    assert code == 0, out
    found = re.search(r"secret:\s+(\S+)", out)
    assert found is not None
    assert "username: testtown.gw-north" in out
    db = make_engine(db_url)
    with db.connect() as conn:
        assert devices.authenticate(conn, "testtown.gw-north", found[1]) is not None
    db.dispose()
    code, listed = run("devices", "list", "-m", "testtown")
    assert code == 0
    assert "testtown.gw-north" in listed
    assert "river-1" in listed
    assert "river-2" in listed
    assert found[1] not in listed


def test_refusals(db_url: str) -> None:
    code, out = run("devices", "create", "x", "--kind", "toaster", "-m", "testtown")
    assert (code, "--kind must be one of" in out) == (2, True)
    code, out = run("devices", "create", "x", "--kind", "gateway", "-m", "testtown", "-d", "nope")
    assert code == 2
    assert "not sensors or cameras of testtown: nope" in out
    code, out = run("devices", "create", "x", "--kind", "camera")
    assert code == 2
    assert "belongs to one municipality" in out
    code, out = run("devices", "revoke", "testtown.none")
    assert code == 1


def test_a_frigate_prefix_of_another_town_is_refused(db_url: str, tmp_path: Path) -> None:
    from cityops.app import import_config
    from tests.e2e.acl_support import FRIGATE
    from tests.town import TOWN_YAML

    town = tmp_path / "testtown.yaml"
    town.write_text(TOWN_YAML.read_text(encoding="utf-8") + FRIGATE, encoding="utf-8")
    db = make_engine(db_url)
    import_config(db, town, actor="test")
    db.dispose()
    code, out = run("devices", "create", "nvr", "--kind", "frigate", "-m", "other",
                    "--prefix", "frigate")  # fmt: skip
    assert code == 2
    assert "is testtown's Frigate's" in out
    code, out = run("devices", "create", "nvr", "--kind", "frigate", "-m", "testtown")
    assert code == 0, out  # its own configured prefix, taken from the configuration
    code, listed = run("devices", "list")
    assert "frigate/#" in listed


def stand_in_broker(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    """A process standing in for Mosquitto: it writes its pid file and says "ready" only once
    SIGHUP is blocked and waited for, so a signal can neither come too early nor be lost. It
    sets SIGHUP's default disposition itself: one inherited as ignored or blocked (a run under
    `nohup`, a test runner's thread) made the `sleep 60` this once was outlive the wait."""
    pid_file = tmp_path / "mosquitto.pid"
    code = (
        "import os, signal, sys\n"
        "signal.signal(signal.SIGHUP, signal.SIG_DFL)\n"
        "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})\n"
        f"open({str(pid_file)!r}, 'w').write(f'{{os.getpid()}}\\n')\n"
        "print('ready', flush=True)\n"
        "signal.sigwait({signal.SIGHUP})\n"
        "print('reloaded', flush=True)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"  # blocks until the stand-in waits for SIGHUP
    return proc, pid_file


def test_revoke_then_sync_signals_the_broker(db_url: str, tmp_path: Path) -> None:
    assert run("devices", "create", "cam", "--kind", "camera", "-m", "testtown")[0] == 0
    assert run("devices", "create", "w", "--kind", "worker")[0] == 0
    code, out = run("devices", "revoke", "testtown.cam", "--reason", "replaced")
    assert code == 0, out
    broker, pid_file = stand_in_broker(tmp_path)
    passwd, acl = tmp_path / "passwd", tmp_path / "acl"
    try:
        code, out = run("mqtt", "sync", "--password-file", str(passwd), "--acl-file", str(acl),
                        "--pid-file", str(pid_file), "--print-config")  # fmt: skip
        assert code == 0, out
        # the exit is the condition; the bound only keeps a broken sync from hanging the run
        rest, _ = broker.communicate(timeout=120)
        assert (broker.returncode, rest) == (0, "reloaded\n")
    finally:
        broker.kill()
        broker.wait()
    assert "1 credentials written" in out
    assert f"password_file {passwd}" in out
    assert "use_username_as_clientid true" in out
    assert passwd.read_text().startswith("_all.w:$7$")
    assert "testtown.cam" not in acl.read_text()
    code, out = run("mqtt", "sync", "--password-file", str(passwd), "--acl-file", str(acl),
                    "--pid-file", str(tmp_path / "missing.pid"))  # fmt: skip
    assert code == 1
    assert "sync failed" in out
