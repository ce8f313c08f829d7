"""The lifecycle every loopback server of the harness shares (servers.py)."""

from __future__ import annotations

import atexit
import contextlib
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Self

from .process import (
    LOOPBACK,
    Running,
    ServerStartError,
    _child_env,
    _pdeathsig_prefix,
    _run_as,
    _stop_process,
    _tail,
    free_port,
)


class _Server(Running):
    """Shared lifecycle: temp dir, process, graceful stop, cleanup at exit."""

    name = "server"
    stop_signal = signal.SIGTERM  # graceful shutdown
    pdeath_signal = "TERM"  # sent by the kernel if the starting thread dies

    def __init__(self, port: int | None, start_timeout: float) -> None:
        self.host = LOOPBACK
        self._fixed_port = port is not None
        self.port = port if port is not None else free_port()
        self.start_timeout = start_timeout
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- public API --------------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        """The server's temporary directory (config, data, logs); removed by stop()."""
        if self._base is None:
            raise RuntimeError(f"{self.name} is not started")
        return self._base

    @property
    def pid(self) -> int | None:
        """The server's process id while it runs."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        return self.pid is not None

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    def log_text(self) -> str:
        """The end of the server's log (for assertion messages)."""
        return _tail(self.log_path)

    def start(self) -> Self:
        """Start the server; return when it accepts real client connections."""
        if self.running:
            return self
        for attempt in range(3):
            self._base = self._prepare()
            _live.add(self)
            try:
                self._launch()
            except ServerStartError as exc:
                self.stop()
                port_taken = "address already in use" in str(exc).lower()
                if self._fixed_port or not port_taken or attempt == 2:
                    raise
                self.port = free_port()  # taken between free_port() and bind: try another
            except BaseException:
                self.stop()
                raise
            else:
                return self
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self) -> None:
        """Shut the server down (gracefully, SIGKILL after a timeout) and remove its directory."""
        self._terminate()
        self._remove_dir()
        _live.discard(self)

    def restart(self) -> None:
        """Stop the server gracefully and start it again: same port, same data directory."""
        if self._base is None:
            raise RuntimeError(f"{self.name} is not started")
        self._terminate()
        self._launch()

    def __repr__(self) -> str:
        state = f"pid {self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    # -- for subclasses ----------------------------------------------------------------------

    def _prepare(self) -> Path:
        """Create the temporary directory and whatever must exist before the first launch."""
        raise NotImplementedError

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _owner(self) -> pwd.struct_passwd | None:
        raise NotImplementedError

    def _ready(self) -> bool:
        """True once the server answers a real client request."""
        raise NotImplementedError

    def _after_start(self) -> None:
        """Hook run once the server is ready (first start and restarts)."""

    # -- internals ---------------------------------------------------------------------------

    def _launch(self) -> None:
        base = self.base_dir
        owner = self._owner()
        with open(base / "stdout.log", "ab") as out:
            self._proc = subprocess.Popen(
                [*_pdeathsig_prefix(self.pdeath_signal), *self._command()],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=base,
                env=_child_env(base),
                start_new_session=True,
                **_run_as(owner),
            )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with status {self._proc.returncode} while starting "
                    f"on {self.host}:{self.port}:\n{self._read_all_logs()}"
                )
            if self._ready():
                break
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"{self.name} did not accept connections on {self.host}:{self.port} within "
                    f"{self.start_timeout:.0f}s:\n{self._read_all_logs()}"
                )
            time.sleep(0.05)
        self._after_start()

    def _read_all_logs(self) -> str:
        if self._base is None:
            return ""
        parts = [_tail(self._base / "stdout.log"), _tail(self._base / "server.log")]
        return "\n".join(p for p in parts if p.strip()) or "(no log output)"

    def _terminate(self) -> None:
        if self._proc is not None:
            _stop_process(self._proc, self.stop_signal, timeout=15)
            self._proc = None

    def _remove_dir(self) -> None:
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
            self._base = None


_live: set[_Server] = set()  # started and not stopped yet


@atexit.register
def _stop_leftovers() -> None:
    for server in list(_live):
        with contextlib.suppress(Exception):
            server.stop()


# --------------------------------------------------------------------------------------------
# Mosquitto
