"""What the loopback servers of the test harness share: ports, finding the binaries, the
users they run as, their directories, running a tool as that user, stopping a process group,
and the ``with`` protocol (servers.py says what the harness is for)."""

from __future__ import annotations

import contextlib
import functools
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from cityops.bus.mosquitto_conf import find_mosquitto

LOOPBACK = "127.0.0.1"

MOSQUITTO_MISSING = "mosquitto not installed: run `make test` as root or apt-get install mosquitto"
POSTGRES_MISSING = (
    "PostgreSQL server not installed (no /usr/lib/postgresql/*/bin/initdb): "
    "run `make test` as root or apt-get install postgresql"
)


class ServerUnavailableError(RuntimeError):
    """The server's binaries (or the OS user it must run as) are missing on this machine."""


class ServerStartError(RuntimeError):
    """The server was found but did not start; the message carries the end of its log."""


# --------------------------------------------------------------------------------------------
# Helpers


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port on ``host`` that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _version_key(path: Path) -> tuple[int, ...]:
    parts = re.findall(r"\d+", path.parent.name)
    return tuple(int(p) for p in parts)


def find_postgres_bin() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb and postgres, or None.

    ``CITYOPS_PG_BIN`` overrides the search (a directory holding initdb and postgres).
    """
    override = os.environ.get("CITYOPS_PG_BIN")
    candidates = (
        [Path(override)]
        if override
        else sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version_key, reverse=True)
    )
    for bin_dir in candidates:
        if all(os.access(bin_dir / tool, os.X_OK) for tool in ("initdb", "postgres")):
            return bin_dir
    return None


def _is_root() -> bool:
    return os.geteuid() == 0


def _os_user(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def mosquitto_unavailable_reason() -> str | None:
    """Why MosquittoServer cannot run here, or None when it can."""
    return None if find_mosquitto() else MOSQUITTO_MISSING


def postgres_unavailable_reason() -> str | None:
    """Why PostgresServer cannot run here, or None when it can."""
    if find_postgres_bin() is None:
        return POSTGRES_MISSING
    if _is_root() and _os_user("postgres") is None:
        return (
            "running as root but there is no `postgres` OS user to run PostgreSQL as "
            "(PostgreSQL refuses to run as root): apt-get install postgresql creates it"
        )
    return None


_OWNER_FILE = "harness.pid"  # pid of the process that made a server directory


def _make_dir(prefix: str, owner: pwd.struct_passwd | None) -> Path:
    """A fresh directory under /tmp, mode 0755, owned by ``owner`` when given (root only).

    First removes the directories of earlier runs whose process died without cleaning up.
    """
    parent = Path("/tmp") if owner else Path(tempfile.gettempdir())
    _sweep_stale(parent, prefix)
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    (base / _OWNER_FILE).write_text(f"{os.getpid()}\n")
    base.chmod(0o755)
    if owner is not None:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    return base


def _sweep_stale(parent: Path, prefix: str) -> None:
    for old in parent.glob(f"{prefix}*"):
        try:
            pid = int((old / _OWNER_FILE).read_text())
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(old, ignore_errors=True)  # its process is gone (its servers too)
        except (OSError, ValueError):
            continue  # not ours to judge


def _run_as(owner: pwd.struct_passwd | None) -> dict[str, Any]:
    """Popen keyword arguments that run the child as ``owner`` (setuid in the child, no shell)."""
    if owner is None:
        return {}
    return {"user": owner.pw_uid, "group": owner.pw_gid, "extra_groups": []}


def _child_env(home: Path) -> dict[str, str]:
    """The environment of a server process: ours, minus libpq settings, in the C locale."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(HOME=str(home), LC_ALL="C", LANG="C")
    return env


def _pdeathsig_prefix(signame: str) -> list[str]:
    """``setpriv --pdeathsig <SIG> --``: the server gets SIGNAME if the thread that started it
    dies, so a SIGKILLed test run leaves no server behind (setpriv is in util-linux)."""
    setpriv = _setpriv_with_pdeathsig()
    return [setpriv, "--pdeathsig", signame, "--"] if setpriv else []


@functools.cache
def _setpriv_with_pdeathsig() -> str | None:
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    try:
        help_text = subprocess.run(
            [setpriv, "--help"], capture_output=True, text=True, timeout=5, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return setpriv if "--pdeathsig" in help_text else None


def _tail(path: Path, limit: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


def _stop_process(proc: subprocess.Popen[bytes], first: signal.Signals, timeout: float) -> None:
    """Send ``first`` and wait up to ``timeout``; then SIGKILL the whole process group."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(first)
    try:
        proc.wait(timeout=timeout)
        return
    except subprocess.TimeoutExpired:
        pass
    # The server leads its own process group (start_new_session): kill all of it (PostgreSQL
    # backends included), then reap the leader.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def run_tool(argv: Sequence[str], base: Path, owner: pwd.struct_passwd | None) -> None:
    """Run a server's command-line tool (initdb, pg_basebackup, ...) in ``base`` as ``owner``;
    on failure remove ``base`` and raise :class:`ServerStartError` with its output."""
    result = subprocess.run(
        list(argv),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=base,
        env=_child_env(base),
        timeout=120,
        check=False,
        **_run_as(owner),
    )
    if result.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        tool = Path(argv[0]).name
        raise ServerStartError(f"{tool} failed:\n{result.stdout}\n{result.stderr}")


class Running:
    """``with server:`` starts it and stops it after, whatever happened."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
